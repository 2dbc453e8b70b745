/* The comment server's public JSON API (v1), as the widget uses it. */

/** A refusal from the server, or `status` 0 when the server could not be reached. */
export class ApiError extends Error {
  constructor(status, error = {}, retryAfter = null) {
    super(error.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = error.code ?? null;
    this.serverMessage = error.message ?? null;
    this.field = error.field ?? null;
    this.retryAfter = retryAfter;
  }
}

/**
 * The API of the comment server that served `scriptUrl`. Every write carries the reader key that
 * `readerKey()` returns, so the server can tell one reader's posts, votes and reports apart;
 * reads go without it. `token` is a comment's edit token, which only its author holds.
 */
export function createApi(scriptUrl, readerKey) {
  const endpoint = (path) => new URL(`api/v1/${path}`, scriptUrl);
  const bearer = (token) => token && { Authorization: `Bearer ${token}` };
  const send = (method, path, payload, token) => request(endpoint(path), {
    method,
    headers: { "Content-Type": "application/json", "X-Comments-Reader": readerKey(), ...bearer(token) },
    body: payload && JSON.stringify(payload),
  });
  return {
    /**
     * A page of the thread: `{data, etag}`. The query names site, article, sort, limit and, for
     * later pages, cursor (or root, for one branch). Given the `etag` of the page shown, the
     * browser revalidates its cached copy (If-None-Match, a 304 without a body when nothing
     * changed) and `data` is null if it still matches. The browser adds that header itself, so a
     * cross-origin read needs no preflight.
     */
    async thread(query, etag) {
      const url = endpoint("threads");
      url.search = new URLSearchParams(Object.entries(query).filter(([, value]) => value != null));
      const response = await exchange(url, { cache: etag ? "no-cache" : "default" });
      const tag = response.headers.get("ETag");
      return { data: etag && tag === etag ? null : await body(response), etag: tag };
    },
    /** One comment with its place in the thread; its author's token also shows it while held. */
    comment: (id, token) => request(endpoint(`comments/${id}`), { headers: { ...bearer(token) } }),
    post: (comment) => send("POST", "comments", comment),
    edit: (id, token, text) => send("PATCH", `comments/${id}`, { text }, token),
    remove: (id, token) => send("DELETE", `comments/${id}`, null, token),
    /** Vote 1 or -1 on a comment, or 0 to take the vote back. */
    vote: (id, value) => send("POST", `comments/${id}/votes`, { value }),
    /** Ask the moderators to look at a published comment. */
    report: (id, reason) => send("POST", `comments/${id}/reports`, { reason }),
  };
}

async function request(url, init) {
  return body(await exchange(url, init));
}

/** The server's answer; a refusal is thrown as an ApiError, with the server's words. */
async function exchange(url, init = {}) {
  let response;
  try {
    response = await fetch(url, { ...init, credentials: "omit" });
  } catch {
    throw new ApiError(0);
  }
  if (!response.ok) {
    const error = (await body(response).catch(() => null))?.error;
    throw new ApiError(response.status, error, retryAfterSeconds(response.headers.get("Retry-After")));
  }
  return response;
}

async function body(response) {
  const json = await response.json().catch(() => null);
  if (!json) throw new ApiError(response.status);
  return json;
}

/** Retry-After is either a number of seconds or an HTTP date. */
function retryAfterSeconds(value) {
  if (!value) return null;
  const seconds = /^\d+$/.test(value) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds)) : null;
}
