/*
  Comment counts for listing pages: fills every [data-comments-count][data-article] element,
  asking the counts API once per site (and per 100 articles, or fewer long ones). No globals.
*/
(() => {
  "use strict";
  // Captured now: after this script has run, document.currentScript no longer points at it.
  const script = document.currentScript;
  if (!script || !script.src) return;
  const api = new URL("api/v1/counts", script.src).href;
  const MAX_ARTICLES = 100;
  // Long article ids (canonical URLs) would overflow a server's request line before 100 of them.
  const MAX_URL = 4000;
  const WORDS = { en: ["comment", "comments"], de: ["Kommentar", "Kommentare"] };

  const lang = (script.dataset.lang || document.documentElement.lang || "en").toLowerCase().split("-")[0];
  const words = WORDS[lang] || WORDS.en;
  const plural = new Intl.PluralRules(WORDS[lang] ? lang : "en");
  const number = new Intl.NumberFormat(WORDS[lang] ? lang : "en");

  const text = (element, n) => element.dataset.commentsCount === "number"
    ? String(n)
    : `${number.format(n)} ${words[plural.select(n) === "one" ? 0 : 1]}`;

  /** The article ids of each site on the page, each with the elements showing its count. */
  const collect = () => {
    const sites = new Map();
    for (const element of document.querySelectorAll("[data-comments-count][data-article]")) {
      const site = element.dataset.site || script.dataset.site;
      const article = element.dataset.article;
      if (!site || !article) continue;
      if (!sites.has(site)) sites.set(site, new Map());
      const articles = sites.get(site);
      if (!articles.has(article)) articles.set(article, []);
      articles.get(article).push(element);
    }
    return sites;
  };

  /** One site's articles as request URLs of at most MAX_ARTICLES ids and MAX_URL characters. */
  const urls = (site, articles) => {
    const head = `${api}?site=${encodeURIComponent(site)}`;
    const result = [];
    let url = head;
    let size = 0;
    for (const article of articles) {
      const param = `&article=${encodeURIComponent(article)}`;
      if (size === MAX_ARTICLES || (size && url.length + param.length > MAX_URL)) {
        result.push(url);
        url = head;
        size = 0;
      }
      url += param;
      size += 1;
    }
    if (size) result.push(url);
    return result;
  };

  const fill = (articles, counts) => {
    for (const [article, n] of Object.entries(counts)) {
      for (const element of articles.get(article) || []) element.textContent = text(element, n);
    }
  };

  const start = () => {
    for (const [site, articles] of collect()) {
      for (const url of urls(site, articles.keys())) {
        // A failed request leaves the page's own text (for example "Comments") in place.
        fetch(url, { credentials: "omit" })
          .then((response) => (response.ok ? response.json() : null))
          .then((body) => body && body.counts && fill(articles, body.counts))
          .catch(() => {});
      }
    }
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start, { once: true });
  } else {
    start();
  }
})();
