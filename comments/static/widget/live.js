/* Noticing new comments: a cheap revalidation of the thread now and then, while the page is seen. */

/**
 * Call `check()` every `seconds` while the page is visible, and at once when it becomes visible
 * again; never two at a time. Returns the function that stops it (and its listener on the page).
 */
export function watch(seconds, check) {
  let timer;
  let running = false;
  let stopped = false;
  const tick = async () => {
    clearTimeout(timer);
    if (running || stopped || document.visibilityState !== "visible") return;
    running = true;
    try {
      await check();
    } catch {
      /* Offline for a moment, say: the next tick tries again. */
    } finally {
      running = false;
      if (!stopped) timer = setTimeout(tick, seconds * 1000);
    }
  };
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", tick);
  };
  if (seconds > 0) {
    document.addEventListener("visibilitychange", tick);
    timer = setTimeout(tick, seconds * 1000);
  }
  return stop;
}
