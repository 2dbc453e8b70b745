/* The reader's own comments: Edit and Delete while the site's edit window is open, then neither. */
import { h } from "./dom.js";
import { createNotice, describe, labelled, uid, whenSubmitted } from "./form.js";

// setTimeout takes at most a signed 32-bit number of milliseconds (about 24.8 days).
const LONGEST_TIMER = 2 ** 31 - 1;

/**
 * Edit and Delete buttons for a thread: `(comment, node) => [buttons]`, none for comments this
 * browser did not post or whose window (`windowSeconds()` after `created_at`) has closed. `api`
 * edits and deletes with the comment's edit token, `store` keeps it and the reader's source text,
 * `thread` shows the result; `onEdited(before, after)` follows an edit (with the statuses before
 * and after it: an edit may be held) and `onDeleted(comment, placeholder)` a deletion.
 */
export function createOwnActions({ messages, store, api, thread, windowSeconds, onEdited, onDeleted }) {
  return (comment, node) => {
    const own = store.own(comment.id);
    const left = Date.parse(comment.created_at) + windowSeconds() * 1000 - Date.now();
    if (!own?.token || !(left > 0)) return [];
    const edit = h("button", { type: "button", className: "link edit" }, messages.edit);
    const remove = h("button", { type: "button", className: "link delete" }, messages.delete);
    // When the window closes the buttons go; a form already open stays, and the server says no.
    if (left < LONGEST_TIMER) {
      setTimeout(() => {
        edit.remove();
        remove.remove();
      }, left);
    }
    edit.onclick = () => openEditor(node, edit);
    remove.onclick = () => confirmDelete(node, remove);
    return [edit, remove];
  };

  function openEditor(node, edit) {
    const { id } = node.data;
    const article = node.item.querySelector(":scope > article");
    const own = store.own(id);
    const notice = createNotice({ id: uid("notice") });
    const text = h("textarea", {
      name: "text",
      required: true,
      rows: 4,
      "aria-describedby": notice.id,
      // Only a comment written before the widget kept source texts lacks one: its words will do.
      value: own.text ?? article.querySelector(".body").innerText.trim(),
    });
    const save = h("button", { type: "submit", className: "submit" }, messages.save);
    const close = () => {
      form.remove();
      article.hidden = false;
    };
    const form = h("form", { className: "form edit-form", "aria-label": messages.editForm },
      labelled(messages.text, text),
      h("div", { className: "actions" }, save, h("button", {
        type: "button",
        className: "cancel",
        onclick: () => {
          close();
          edit.focus();
        },
      }, messages.cancel)),
      notice);
    whenSubmitted(form, save, messages.saving, async () => {
      notice.say("");
      const before = node.data.status;
      const result = await api.edit(id, own.token, text.value);
      store.saveOwn(id, { text: text.value }, result.status === "pending");
      close();
      thread.update(id, { ...result.comment, status: result.status });
      onEdited(before, result.status);
      node.item.querySelector(":scope > article .edit")?.focus();
    }, (error) => {
      notice.say(describe(error, messages), true);
      text.focus();
    });
    article.hidden = true;
    article.after(form);
    text.focus();
  }

  function confirmDelete(node, remove) {
    const { id } = node.data;
    const footer = remove.parentNode;
    const question = h("span", { id: uid("confirm") }, messages.deleteConfirm);
    const yes = h("button", { type: "button", className: "submit" }, messages.deleteYes);
    const no = h("button", { type: "button", className: "cancel" }, messages.cancel);
    const notice = createNotice();
    const box = h("div", { className: "actions confirm", role: "group", "aria-labelledby": question.id },
      question, yes, no, notice);
    no.onclick = () => {
      box.remove();
      footer.hidden = false;
      remove.focus();
    };
    yes.onclick = async () => {
      if (yes.disabled) return;
      yes.disabled = true;
      try {
        await api.remove(id, store.own(id).token);
        store.settle(id, true);
        onDeleted(node.data, thread.remove(id));
      } catch (error) {
        notice.say(describe(error, messages), true);
        yes.disabled = false;
        no.focus();
      }
    };
    footer.hidden = true;
    footer.after(box);
    // The safe answer has the focus, so that a second press of Enter does not delete.
    no.focus();
  }
}
