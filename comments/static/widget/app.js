/* Mounts the widget in a shadow root and runs it: pages, order, posting, new comments, deep links. */
import { createApi } from "./api.js";
import { loadMessages, readSettings, tokenIdentity } from "./config.js";
import { h } from "./dom.js";
import { createForm } from "./form.js";
import { plural } from "./format.js";
import { watch } from "./live.js";
import { createOwnActions } from "./own.js";
import { createReporter } from "./report.js";
import { createStore, SORTS } from "./store.js";
import { createThread } from "./thread.js";
import { createVotes } from "./votes.js";

const LINK = /^#comment-(\d+)$/;
let stylesheet;

/**
 * Render the comments of this page into `element`, talking to the server that served `scriptUrl`.
 * Resolves, once the first page is shown, to the function that takes the widget down again.
 */
export async function mount(element, scriptUrl) {
  const settings = readSettings(element);
  const { site, article } = settings;
  const store = createStore(new URL(scriptUrl).origin);
  const api = createApi(scriptUrl, store.reader);
  // Whom the site signed in, as their token says: for the form's words only.
  const identity = settings.sso ? tokenIdentity(settings.sso) ?? {} : null;
  let sort = store.sort(settings.sort);
  const query = (extra) => ({ site, article, sort, limit: settings.pageSize, ...extra });
  // The thread, the catalog and the stylesheet are fetched side by side.
  const firstPage = api.thread(query());
  // A failure is shown by load(), once the catalog is here; until then it is not unhandled.
  firstPage.catch(() => {});
  const [messages, sheet] = await Promise.all([loadMessages(settings.lang), loadStylesheet(scriptUrl)]);
  const { locale } = messages;

  // The thread's settings as the server last told them: closed, downvotes, edit_window.
  let info = {};
  let count = 0;
  // The server's signed note of when this page loaded the thread, handed back with each post.
  let formToken;
  // The first page's ETag, the next page's cursor, and a newer first page waiting to be shown.
  let etag;
  let cursor;
  let fresh;
  let mainForm;
  let loadingMore = false;
  const replyForms = new Map();

  const votes = createVotes({ messages, store, send: api.vote, downvotes: () => info.downvotes });
  const reportButton = createReporter({ messages, store, send: api.report });
  const thread = createThread(messages, (data, node) => [
    votes(data),
    !info.closed && data.status === "approved" && replyButton(data, node),
    ...ownActions(data, node),
    reportButton(data, node.item),
  ], branch);
  const ownActions = createOwnActions({
    messages, store, api, thread,
    windowSeconds: () => info.edit_window ?? 0,
    onEdited(before, after) {
      setCount(count + Number(after === "approved") - Number(before === "approved"));
    },
    onDeleted(data, placeholder) {
      if (data.status === "approved") setCount(count - 1);
      (placeholder ?? heading).focus();
    },
  });

  const heading = h("h2", { className: "count", tabIndex: -1, hidden: true });
  const select = h("select", { name: "sort", onchange: changeSort },
    ...SORTS.map((value) => h("option", { value }, messages.sorts[value])));
  select.value = sort;
  const status = h("p", { className: "status", role: "status" }, messages.loading);
  const news = h("p", { className: "news", role: "status" });
  const slot = h("div", { className: "slot" });
  const moreButton = h("button", { type: "button", className: "more-comments", hidden: true, onclick: more },
    messages.more);
  const section = h("section", { className: "comments", "aria-busy": "true" },
    h("div", { className: "bar" }, heading, h("label", { className: "sort" }, messages.sortBy, select)),
    status, news, slot, thread.element, moreButton);

  const root = element.shadowRoot ?? element.attachShadow({ mode: "open" });
  root.adoptedStyleSheets = [sheet];
  root.replaceChildren(section);
  if (await load(firstPage)) jump();
  const stopWatching = watch(settings.pollSeconds, revalidate);
  addEventListener("hashchange", jump);
  return () => {
    stopWatching();
    removeEventListener("hashchange", jump);
    root.replaceChildren();
  };

  function setCount(n) {
    count = n;
    heading.textContent = plural(messages.count, n, locale);
    heading.hidden = false;
  }

  function setCursor(next) {
    cursor = next;
    moreButton.hidden = !next;
  }

  /** Show the first page of the thread from `request`; true when it came. */
  async function load(request) {
    section.setAttribute("aria-busy", "true");
    try {
      const answer = await request;
      etag = answer.etag;
      showFirst(answer.data);
      return true;
    } catch {
      const retry = () => {
        status.textContent = messages.loading;
        load(api.thread(query()));
      };
      status.replaceChildren(messages.loadFailed, " ",
        h("button", { type: "button", className: "link retry", onclick: retry }, messages.retry));
      status.hidden = false;
      return false;
    } finally {
      section.removeAttribute("aria-busy");
    }
  }

  function showFirst(data) {
    info = data.thread;
    formToken = data.form_token;
    fresh = null;
    news.replaceChildren();
    replyForms.clear();
    thread.clear();
    thread.render(data.comments);
    setCursor(data.next_cursor);
    setCount(info.count);
    mainForm ??= newForm(null);
    slot.replaceChildren(info.closed ? h("p", { className: "closed" }, messages.closed) : mainForm);
    status.hidden = true;
    restoreHeld();
  }

  function changeSort() {
    sort = select.value;
    store.rememberSort(sort);
    load(api.thread(query()));
  }

  /** The next page of top-level comments, under the ones shown; the first new one gets the focus. */
  async function more() {
    if (loadingMore) return;
    loadingMore = true;
    moreButton.textContent = messages.loading;
    try {
      const { data } = await api.thread(query({ cursor }));
      const first = thread.render(data.comments);
      setCursor(data.next_cursor);
      (first?.item ?? (cursor ? moreButton : heading)).focus();
    } catch {
      status.textContent = messages.loadFailed;
      status.hidden = false;
    } finally {
      loadingMore = false;
      moreButton.textContent = messages.more;
    }
  }

  /** Ask whether the first page changed (a 304 if not); announce comments that are new here. */
  async function revalidate() {
    if (!element.isConnected) return stopWatching();
    if (!etag) return;
    const answer = await api.thread(query(), etag);
    if (!answer.data) return;
    etag = answer.etag;
    const n = Math.max(unseen(answer.data.comments).length, answer.data.thread.count - count);
    if (n <= 0) return;
    fresh = answer.data;
    news.replaceChildren(plural(messages.newComments, n, locale), " ",
      h("button", { type: "button", className: "link", onclick: showFresh }, messages.show));
  }

  function showFresh() {
    const [first] = unseen(fresh.comments);
    showFirst(fresh);
    (thread.reveal(first)?.item ?? heading).focus();
  }

  /** The ids of published comments in `comments` (and their replies) that this view has not seen. */
  function unseen(comments) {
    return comments.flatMap((data) => [
      ...(data.html != null && !thread.knows(data.id) ? [data.id] : []),
      ...unseen(data.replies ?? []),
    ]);
  }

  /** Open and mark the comment the page's #comment-ID names, fetching its branch when not loaded. */
  async function jump() {
    const id = Number(LINK.exec(location.hash)?.[1]);
    if (!id) return;
    let node = thread.reveal(id);
    if (!node) {
      try {
        // Not on the page, or folded away under its top-level comment: fetch the whole branch.
        const { root_id: rootId } = await api.comment(id);
        node = thread.expand(id, await branch(rootId)) && thread.reveal(id);
      } catch {
        return; // Removed, held or never there: the thread stays as it is.
      }
    }
    if (node) thread.highlight(node);
  }

  /** A top-level comment with all its replies; a failure is told in the status line. */
  async function branch(rootId) {
    try {
      return (await api.thread(query({ root: rootId }))).data.comments[0];
    } catch (error) {
      status.textContent = messages.loadFailed;
      status.hidden = false;
      throw error;
    }
  }

  /** The reader's own held comments, shown to them again after a reload where the site allows it. */
  function restoreHeld() {
    for (const id of store.held(site, article)) {
      if (thread.knows(id)) {
        store.settle(id);
        continue;
      }
      // Published meanwhile: stop asking. Gone, or no longer shown to its author (404), or not
      // this token's comment (403): forget it.
      api.comment(id, store.own(id).token).then(({ comment }) => {
        if (comment.status !== "pending") store.settle(id);
        else if (!thread.knows(id)) thread.insert(comment, sort === "newest");
      }, (error) => [403, 404].includes(error.status) && store.settle(id, true));
    }
  }

  function newForm(parentId, onClose) {
    const onSubmit = (fields) => submit(parentId, fields);
    return createForm({ messages, author: store.author(), identity, reply: parentId != null, onSubmit, onClose });
  }

  async function submit(parentId, { name, email, text, homepage, notify }) {
    const result = await api.post({
      site, article, url: settings.url, title: settings.title,
      ...(parentId != null && { parent_id: parentId }),
      // A signed-in reader's name and email are the token's, which the server checks.
      ...(settings.sso ? { sso: settings.sso } : { author: email ? { name, email } : { name } }),
      text,
      homepage,
      ...(notify && { notify: true }),
      ...(formToken && { form_token: formToken }),
    });
    const held = result.status !== "approved";
    if (!settings.sso) store.rememberAuthor(name, email);
    store.saveOwn(result.comment.id, { token: result.edit_token, text, site, article }, held);
    // The reader sees their own held comment, marked as waiting; the server calls it pending.
    const node = thread.insert({ ...result.comment, status: held ? "pending" : "approved" },
      parentId == null && sort === "newest");
    if (!held) {
      setCount(count + 1);
      node?.item.focus();
    }
    return result.status;
  }

  function replyButton(data, node) {
    const button = h("button", { type: "button", className: "link reply", "aria-expanded": "false" }, messages.reply);
    button.onclick = () => toggleReplyForm(data, node.item, button);
    return button;
  }

  function toggleReplyForm(comment, item, button) {
    let form = replyForms.get(comment.id);
    const close = ({ posted = false } = {}) => {
      form.hidden = true;
      button.setAttribute("aria-expanded", "false");
      // After a post the new reply has the focus; after Cancel the reader goes back to the button.
      if (!posted) button.focus();
    };
    // A branch drawn again (its folded replies fetched) has new items: the form starts afresh.
    if (!form || !item.contains(form)) {
      form = newForm(comment.id, close);
      replyForms.set(comment.id, form);
      item.querySelector(":scope > article").after(form);
    } else {
      form.hidden = !form.hidden;
    }
    button.setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) form.elements.text.focus();
  }
}

/** The widget's stylesheet, fetched once per page and shared by every mount. */
function loadStylesheet(scriptUrl) {
  stylesheet ??= fetch(new URL("widget/widget.css", scriptUrl), { credentials: "omit" })
    .then((response) => (response.ok ? response.text() : ""))
    .catch(() => "")
    .then((css) => {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      return sheet;
    });
  return stylesheet;
}
