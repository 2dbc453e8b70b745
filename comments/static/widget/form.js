/* The comment form: labelled fields, the posting state, and errors told in words beside it. */
import { ApiError } from "./api.js";
import { h } from "./dom.js";
import { format, formatWait } from "./format.js";

// The API names fields by their place in the JSON body; the form names them as sites expect.
const FIELDS = { "author.name": "name", "author.email": "email", text: "text" };
let formCount = 0;

/**
 * A form for a new comment. `onSubmit({name, email, text, homepage})` resolves to the comment's
 * status; a reply form also gets `onClose({posted})`, which hides it (its fields stay as they are).
 */
export function createForm({ messages, author, reply = false, onSubmit, onClose }) {
  const noticeId = `notice-${++formCount}`;
  const control = (tag, props) => h(tag, { ...props, "aria-describedby": noticeId });
  const fields = {
    name: control("input", { name: "name", required: true, autocomplete: "name", value: author.name ?? "" }),
    email: control("input", { name: "email", type: "email", autocomplete: "email", value: author.email ?? "" }),
    text: control("textarea", { name: "text", required: true, rows: 4 }),
  };
  // The honeypot: out of sight, out of the Tab order and hidden from screen readers, so only bots fill it in.
  const homepage = h("input", { name: "homepage", tabIndex: -1, autocomplete: "off" });
  const label = (text, field) => h("label", { className: "field" }, h("span", {}, text), field);
  const submitLabel = reply ? messages.submitReply : messages.submit;
  const submit = h("button", { type: "submit", className: "submit" }, submitLabel);
  const notice = h("p", { className: "notice", id: noticeId, "aria-live": "polite" });
  const form = h("form", { className: reply ? "form reply-form" : "form" },
    h("div", { className: "row" }, label(messages.name, fields.name), label(messages.email, fields.email)),
    h("label", { className: "trap", "aria-hidden": "true" }, messages.honeypot, homepage),
    label(messages.text, fields.text),
    h("div", { className: "actions" },
      submit,
      onClose && h("button", { type: "button", className: "cancel", onclick: () => onClose() }, messages.cancel)),
    notice);

  const say = (text, isError = false) => {
    notice.textContent = text;
    notice.classList.toggle("error", isError);
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    say("");
    for (const field of Object.values(fields)) field.removeAttribute("aria-invalid");
    submit.disabled = true;
    submit.textContent = messages.posting;
    try {
      const status = await onSubmit({
        name: fields.name.value.trim(),
        email: fields.email.value.trim(),
        text: fields.text.value,
        homepage: homepage.value,
      });
      fields.text.value = "";
      if (status === "approved" && onClose) onClose({ posted: true });
      else say(status === "pending" ? messages.pending : messages.posted);
    } catch (error) {
      say(describe(error, messages), true);
      const field = fields[FIELDS[error.field]];
      if (field) {
        field.setAttribute("aria-invalid", "true");
        field.focus();
      }
    } finally {
      submit.disabled = false;
      submit.textContent = submitLabel;
    }
  });
  return form;
}

/**
 * The words for a failed write: the server's own message when it sent one. A rate limit is told
 * with `tooMany` (filled with the wait) or, when the server names no wait, `tooManyLater`.
 */
export function describe(error, messages, tooMany = messages.tooMany, tooManyLater = messages.tooManyLater) {
  if (!(error instanceof ApiError)) {
    console.error(error);
    return messages.failed;
  }
  if (error.status === 429) {
    return error.retryAfter ? format(tooMany, { wait: formatWait(error.retryAfter, messages.locale) }) : tooManyLater;
  }
  if (error.status === 0) return messages.unreachable;
  return error.serverMessage ?? messages.failed;
}
