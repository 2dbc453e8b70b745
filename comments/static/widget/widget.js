/*
  The embed script: remembers where it was loaded from and mounts the widget on #comments.
  The rest is native ES modules under widget/, loaded by import(): no build step, at the price
  of two round trips (widget/app.js, then its imports in parallel) before the thread is fetched.
*/
(() => {
  "use strict";
  if (window.CommentsWidget) return;
  // Captured now: after this script has run, document.currentScript no longer points at it.
  const scriptUrl = document.currentScript && document.currentScript.src;
  if (!scriptUrl) return;
  let app;

  window.CommentsWidget = {
    /** Render the comments of the page into `element` (by default #comments). */
    mount(element = document.getElementById("comments")) {
      app ??= import(new URL("widget/app.js", scriptUrl).href);
      return app.then((module) => module.mount(element, scriptUrl));
    },
  };

  const start = () => {
    const element = document.getElementById("comments");
    if (element) window.CommentsWidget.mount(element);
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start, { once: true });
  } else {
    start();
  }
})();
