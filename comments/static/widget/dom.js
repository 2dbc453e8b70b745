/* DOM helpers: elements whose text is always text, and the one door for the server's HTML. */

/**
 * Create an element. Children that are strings become Text nodes, so reader-written text can
 * never be parsed as markup; props set properties, attributes or `on…` listeners.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key in element) element[key] = value;
    else element.setAttribute(key, value);
  }
  element.append(...children.filter((child) => child != null && child !== false));
  return element;
}

/**
 * The only place server HTML enters the page: a comment's `html`, which the comment server
 * sanitized against its allowlist when the comment was written.
 */
export function setTrustedServerHtml(element, html) {
  element.innerHTML = html;
}
