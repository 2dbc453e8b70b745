/* The embed's settings, read from its data-* attributes (each is described at the top of widget.js). */

// The languages with a catalog in i18n/; any other falls back to the first.
const LANGUAGES = ["en", "de"];

/**
 * What to show and how: the thread's site and article, the language, order, page size, polling,
 * and the site's sign-in token for its reader, if any.
 */
export function readSettings(element) {
  const data = element.dataset;
  const canonical = document.querySelector('link[rel="canonical"]')?.href;
  const url = (canonical || location.href).split("#")[0];
  return {
    site: data.site,
    article: data.article || url,
    url,
    // The server takes at most 300 characters (code points): a longer title must not block posting.
    title: [...(data.title || document.title).trim()].slice(0, 300).join(""),
    lang: data.lang || document.documentElement.lang || LANGUAGES[0],
    sort: data.sort,
    pageSize: Math.min(100, Math.max(1, Math.round(data.pageSize) || 50)),
    pollSeconds: Math.max(0, Number(data.pollSeconds ?? 30) || 0),
    sso: data.sso || "",
  };
}

/**
 * The name and email a sign-in token claims, read without checking its signature: only for
 * showing the reader who they post as. The server verifies the token; null when it is unreadable.
 */
export function tokenIdentity(token) {
  try {
    const segment = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(segment), (c) => c.charCodeAt(0))));
    const text = (value) => (typeof value === "string" && value.trim()) || null;
    return { name: text(claims.name), email: text(claims.email) };
  } catch {
    return null;
  }
}

/**
 * The message catalog for a language tag ("de", "de-AT"): the catalog of its language, else the
 * English one. Dates and numbers follow the tag itself when its language has a catalog.
 */
export async function loadMessages(tag) {
  let locale;
  try {
    [locale] = Intl.getCanonicalLocales(tag.trim());
  } catch {
    /* Not a language tag: English. */
  }
  const language = locale?.split("-")[0].toLowerCase();
  const known = LANGUAGES.includes(language);
  const { default: messages } = await import(`./i18n/${known ? language : LANGUAGES[0]}.js`);
  return { ...messages, locale: known ? locale : messages.locale };
}
