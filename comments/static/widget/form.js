/* The comment form: labelled fields, the posting state, and errors told in words beside it. */
import { ApiError } from "./api.js";
import { h } from "./dom.js";
import { format, formatWait } from "./format.js";

// The API names fields by their place in the JSON body; the form names them as sites expect.
const FIELDS = { "author.name": "name", "author.email": "email", text: "text" };
let ids = 0;

/** A page-wide unique id, for aria-describedby and aria-labelledby. */
export const uid = (prefix) => `${prefix}-${++ids}`;

/** A live region for a form's outcome; `notice.say(text, isError)` fills it. */
export function createNotice(props = {}) {
  const notice = h("p", { className: "notice", "aria-live": "polite", ...props });
  notice.say = (text, isError = false) => {
    notice.textContent = text;
    notice.classList.toggle("error", isError);
  };
  return notice;
}

/** A label around its field, with the label's words above it. */
export const labelled = (text, field) => h("label", { className: "field" }, h("span", {}, text), field);

/**
 * Run `action()` on each submit of `form`, with `button` disabled and saying `busy` meanwhile;
 * a failure goes to `onError(error)`.
 */
export function whenSubmitted(form, button, busy, action, onError) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.disabled) return;
    const label = button.textContent;
    button.disabled = true;
    button.textContent = busy;
    try {
      await action();
    } catch (error) {
      onError(error);
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  });
}

/**
 * A form for a new comment. `onSubmit({name, email, text, homepage, notify})` resolves to the
 * comment's status; a reply form also gets `onClose({posted})`, which hides it (its fields stay).
 * For a reader the site signed in, `identity` holds the name and email their token claims: the
 * form says who they post as instead of asking, since the server takes both from the token.
 */
export function createForm({ messages, author, identity, reply = false, onSubmit, onClose }) {
  const notice = createNotice({ id: uid("notice") });
  const hintId = uid("hint");
  const control = (tag, props) => h(tag, { ...props, "aria-describedby": notice.id });
  const fields = {
    name: control("input", { name: "name", required: true, autocomplete: "name", value: author.name ?? "" }),
    email: control("input", { name: "email", type: "email", autocomplete: "email", value: author.email ?? "" }),
    text: control("textarea", { name: "text", required: true, rows: 4 }),
  };
  // The honeypot: out of sight, out of the Tab order and hidden from screen readers, so only bots fill it in.
  const homepage = h("input", { name: "homepage", tabIndex: -1, autocomplete: "off" });
  // Reply emails need an address: the box stays off, and says why, while the email field is empty.
  const notify = h("input", { type: "checkbox", name: "notify", "aria-describedby": hintId });
  const hint = h("span", { className: "hint", id: hintId }, messages.notifyNeedsEmail);
  const emailChanged = () => {
    const hasEmail = Boolean(identity ? identity.email : fields.email.value.trim());
    notify.disabled = !hasEmail;
    notify.checked &&= hasEmail;
    hint.hidden = hasEmail;
  };
  fields.email.addEventListener("input", emailChanged);
  emailChanged();
  const submit = h("button", { type: "submit", className: "submit" }, reply ? messages.submitReply : messages.submit);
  const form = h("form", { className: reply ? "form reply-form" : "form" },
    identity
      ? h("p", { className: "signed-in" },
        identity.name ? format(messages.signedInAs, { name: identity.name }) : messages.signedIn)
      : h("div", { className: "row" }, labelled(messages.name, fields.name), labelled(messages.email, fields.email)),
    h("label", { className: "trap", "aria-hidden": "true" }, messages.honeypot, homepage),
    labelled(messages.text, fields.text),
    // A signed-in reader without an email in their token cannot be told of replies, nor add one.
    h("p", { className: "notify", hidden: identity && !identity.email },
      h("label", { className: "choice" }, notify, messages.notify), hint),
    h("div", { className: "actions" },
      submit,
      onClose && h("button", { type: "button", className: "cancel", onclick: () => onClose() }, messages.cancel)),
    notice);

  const reset = () => {
    notice.say("");
    for (const field of Object.values(fields)) field.removeAttribute("aria-invalid");
  };
  whenSubmitted(form, submit, messages.posting, async () => {
    reset();
    const email = identity ? identity.email : fields.email.value.trim();
    const status = await onSubmit({
      name: fields.name.value.trim(),
      email,
      text: fields.text.value,
      homepage: homepage.value,
      notify: notify.checked && Boolean(email),
    });
    fields.text.value = "";
    if (status === "approved" && onClose) onClose({ posted: true });
    else notice.say(status === "approved" ? messages.posted : messages.pending);
  }, (error) => {
    notice.say(describe(error, messages), true);
    const field = fields[FIELDS[error.field]];
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
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
