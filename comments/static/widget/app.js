/* Mounts the widget in a shadow root: reads the embed's settings, loads the thread, wires the forms. */
import { createApi } from "./api.js";
import { h } from "./dom.js";
import { countLabel } from "./format.js";
import { createForm } from "./form.js";
import messages from "./i18n/en.js";
import { createReporter } from "./report.js";
import { createStore } from "./store.js";
import { createThread } from "./thread.js";

let stylesheet;

/** Render the comments of this page into `element`, talking to the server that served `scriptUrl`. */
export async function mount(element, scriptUrl) {
  const settings = readSettings(element);
  const store = createStore(new URL(scriptUrl).origin);
  const api = createApi(scriptUrl, store.reader);
  const reportButton = createReporter({ messages, store, send: api.report });
  const thread = createThread(messages, toggleReplyForm, reportButton);
  const replyForms = new Map();
  const heading = h("h2", { className: "count", hidden: true });
  const status = h("p", { className: "status", role: "status" }, messages.loading);
  const section = h("section", { className: "comments", "aria-busy": "true" },
    heading, status, newForm(null), thread.element);
  let count = 0;
  // The server's signed note of when this page loaded the thread, handed back with each post.
  let formToken;

  const threadRequest = api.thread(settings.site, settings.article);
  const root = element.shadowRoot ?? element.attachShadow({ mode: "open" });
  root.adoptedStyleSheets = [await loadStylesheet()];
  root.replaceChildren(section);
  await show(threadRequest);

  function setCount(n) {
    count = n;
    heading.textContent = countLabel(messages, n);
    heading.hidden = false;
  }

  async function show(request) {
    try {
      const data = await request;
      formToken = data.form_token;
      thread.render(data.comments);
      setCount(data.thread.count);
      status.hidden = true;
    } catch {
      const retry = () => {
        status.textContent = messages.loading;
        show(api.thread(settings.site, settings.article));
      };
      status.replaceChildren(messages.loadFailed, " ",
        h("button", { type: "button", className: "retry", onclick: retry }, messages.retry));
    } finally {
      section.removeAttribute("aria-busy");
    }
  }

  function newForm(parentId, onClose) {
    const onSubmit = (fields) => submit(parentId, fields);
    return createForm({ messages, author: store.author(), reply: parentId != null, onSubmit, onClose });
  }

  async function submit(parentId, { name, email, text, homepage }) {
    const result = await api.post({
      ...settings,
      ...(parentId != null && { parent_id: parentId }),
      author: email ? { name, email } : { name },
      text,
      homepage,
      ...(formToken && { form_token: formToken }),
    });
    store.rememberAuthor(name, email);
    store.saveEditToken(result.comment.id, result.edit_token);
    if (result.status === "approved") {
      thread.insert(result.comment).focus();
      setCount(count + 1);
    }
    return result.status;
  }

  function toggleReplyForm(comment, item, button) {
    let form = replyForms.get(comment.id);
    const close = ({ posted = false } = {}) => {
      form.hidden = true;
      button.setAttribute("aria-expanded", "false");
      // After a post the new reply has the focus; after Cancel the reader goes back to the button.
      if (!posted) button.focus();
    };
    if (!form) {
      form = newForm(comment.id, close);
      replyForms.set(comment.id, form);
      item.querySelector("article").after(form);
    } else {
      form.hidden = !form.hidden;
    }
    button.setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) form.elements.text.focus();
  }
}

/** Which thread this page shows: data-site, and data-article or else the page's canonical URL. */
function readSettings(element) {
  const canonical = document.querySelector('link[rel="canonical"]')?.href;
  const url = canonical || location.href.split("#")[0];
  return { site: element.dataset.site, article: element.dataset.article || url, url, title: document.title };
}

/** The widget's stylesheet, fetched once per page and shared by every mount. */
function loadStylesheet() {
  stylesheet ??= fetch(new URL("widget.css", import.meta.url), { credentials: "omit" })
    .then((response) => (response.ok ? response.text() : ""))
    .catch(() => "")
    .then((css) => {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      return sheet;
    });
  return stylesheet;
}
