/*
  The embed script: a site pastes one tag, and this mounts the widget on #comments.

    <div id="comments" data-site="demo" data-article="ARTICLE-ID"></div>
    <script src="https://COMMENTS-HOST/widget.js" async></script>

  Options, as data-* attributes of the #comments element:
    data-site          required: the site's slug.
    data-article       the article's id; default: the page's canonical URL (<link rel="canonical">,
                       else the address without its #fragment).
    data-title         the article's title, for feeds, emails and the moderators; default: the
                       page's <title>. The address sent is always the canonical URL (or the page's).
    data-lang          the language of the widget's words, dates and numbers: "en" or "de", with or
                       without a region ("de-AT"); default: the page's <html lang>, else English.
    data-theme         "light" or "dark"; default: the reader's prefers-color-scheme.
    data-sort          the first order readers see: "oldest" (default), "newest" or "top"; a
                       reader's own choice, which the widget remembers, wins.
    data-page-size     top-level comments per page, 1-100 (default 50), each with all its replies.
    data-poll-seconds  how often the widget asks, while the page is visible, whether new comments
                       came (a cheap 304 when none did); default 30, 0 switches it off.
    data-sso           a reader the site has signed in: an HS256 JWT made with the site's secret
                       (see the README's "Single sign-on"). The form then shows "Signed in as NAME"
                       instead of the name and email fields, and every post and reply carries it.

  Colours and fonts come from CSS custom properties the page may set: see widget.css.
  The page gets one global, CommentsWidget, with mount(element) and unmount(element).

  Build: `make widget` has esbuild (pinned in the Makefile) bundle these ES modules, both
  catalogs included, into one minified classic script, dist/widget.js, and minify widget.css into
  dist/widget.css; GET /widget.js serves the bundle. Measured (gzip -9c, every file a reader loads):
    bundle: widget.js 9.7 KB + widget.css 2.0 KB = 11.7 KB, in 2 requests. Load: the page, then
      widget.js, then the thread and the stylesheet side by side: 2 round trips to a first render.
    native ES modules, as written: 24.7 KB in 15 requests (14 modules and catalogs, the CSS), over
      the 15 KB budget; even minified file by file, 13.7 KB. Load: widget.js, then app.js, then
      its ten imports, then the thread, the catalog and the stylesheet: 4 round trips.
  First render of a 20-comment thread in Chromium (median of 9 runs, on a busy shared machine):
  on loopback 1.2 s bundled vs 1.5 s native; at 150 ms emulated latency 1.3 s vs 2.6 s.
*/
import { mount } from "./app.js";

// Captured now: after this script has run, document.currentScript no longer points at it.
const scriptUrl = document.currentScript?.src;
const mounted = new Map();

if (scriptUrl && !window.CommentsWidget) {
  window.CommentsWidget = {
    /** Render the comments of the page into `element` (by default #comments). */
    async mount(element = document.getElementById("comments")) {
      this.unmount(element);
      const running = mount(element, scriptUrl);
      mounted.set(element, running);
      await running;
    },
    /** Take the widget out of `element`, with its timers and its listeners on the page. */
    unmount(element = document.getElementById("comments")) {
      mounted.get(element)?.then((stop) => stop());
      mounted.delete(element);
    },
  };
  const start = () => {
    const element = document.getElementById("comments");
    if (element) window.CommentsWidget.mount(element);
    return element;
  };
  // The script tag comes after #comments, so the element is usually there already: the widget
  // need not wait for the rest of a long article page to be parsed.
  if (!start() && document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start, { once: true });
  }
}
