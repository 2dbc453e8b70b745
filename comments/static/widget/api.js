/* The comment server's public JSON API (v1), as the widget uses it. */

/** A refusal from the server, or `status` 0 when the server could not be reached. */
export class ApiError extends Error {
  constructor(status, error = {}, retryAfter = null) {
    super(error.message ?? `HTTP ${status}`);
    this.status = status;
    this.serverMessage = error.message ?? null;
    this.field = error.field ?? null;
    this.retryAfter = retryAfter;
  }
}

/**
 * The API of the comment server that served `scriptUrl`. Every write carries the reader key that
 * `readerKey()` returns, so the server can tell one reader's posts and reports from another's;
 * reads go without it.
 */
export function createApi(scriptUrl, readerKey) {
  const endpoint = (path) => new URL(`api/v1/${path}`, scriptUrl);
  const send = (path, body) => request(endpoint(path), {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Comments-Reader": readerKey() },
    body: JSON.stringify(body),
  });
  return {
    thread(site, article) {
      const url = endpoint("threads");
      url.search = new URLSearchParams({ site, article });
      return request(url);
    },
    post(comment) {
      return send("comments", comment);
    },
    /** Ask the moderators to look at a published comment. */
    report(commentId, reason) {
      return send(`comments/${commentId}/reports`, { reason });
    },
  };
}

async function request(url, init = {}) {
  let response;
  try {
    response = await fetch(url, { ...init, credentials: "omit" });
  } catch {
    throw new ApiError(0);
  }
  const body = await response.json().catch(() => null);
  if (!response.ok || !body) {
    throw new ApiError(response.status, body?.error, retryAfterSeconds(response.headers.get("Retry-After")));
  }
  return body;
}

/** Retry-After is either a number of seconds or an HTTP date. */
function retryAfterSeconds(value) {
  if (!value) return null;
  const seconds = /^\d+$/.test(value) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds)) : null;
}
