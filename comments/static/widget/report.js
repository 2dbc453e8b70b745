/* Reporting a comment to the moderators: the Report button, its inline form, and the thanks. */
import { h } from "./dom.js";
import { createNotice, describe, labelled, whenSubmitted } from "./form.js";
import { format } from "./format.js";

// The server keeps a reason of up to this many characters: the chosen label, ": " and the details.
const REASON_MAX = 500;

/**
 * Report buttons for a thread. The returned `button(comment, item)` makes a comment's Report button
 * (none for placeholders and for the reader's own comments), which opens its form under the comment;
 * `send(commentId, reason)` files the report and `store` remembers it across reloads.
 */
export function createReporter({ messages, store, send }) {
  return (comment, item) => {
    if (comment.status !== "approved" || store.owns(comment.id)) return null;
    if (store.reported(comment.id)) return reportedButton(messages);
    let box;
    const button = h("button", { type: "button", className: "link report", "aria-expanded": "false" }, messages.report);
    const show = (open) => {
      box.hidden = !open;
      button.setAttribute("aria-expanded", String(open));
      // A radio group's stop in the Tab order is its checked radio, else the first.
      if (open) (box.querySelector("input:checked") ?? box.querySelector("input")).focus();
    };
    const onCancel = () => {
      show(false);
      button.focus();
    };
    const onSend = async (reason) => {
      await send(comment.id, reason);
      store.rememberReport(comment.id);
      button.replaceWith(reportedButton(messages));
      // The form and its focused button are gone: the reader goes on from the comment.
      item.focus();
    };
    button.addEventListener("click", () => {
      const open = !box || box.hidden;
      if (!box) {
        box = reportForm(messages, comment, onSend, onCancel);
        item.querySelector("article").after(box);
      }
      show(open);
    });
    return button;
  };
}

function reportedButton(messages) {
  return h("button", { type: "button", className: "link report", disabled: true }, messages.reported);
}

/** The form: a reason to choose, optional details, and a live region for errors and the thanks. */
function reportForm(messages, comment, onSend, onCancel) {
  const longest = Math.max(...messages.reasons.map((reason) => reason.length));
  const details = h("input", { name: "details", maxLength: REASON_MAX - longest - 2, autocomplete: "off" });
  const submit = h("button", { type: "submit", className: "submit" }, messages.sendReport);
  const notice = createNotice();
  const form = h("form", { className: "form report-form", "aria-label": format(messages.reportForm, { name: comment.author.name }) },
    h("fieldset", {}, h("legend", {}, messages.reportWhy),
      ...messages.reasons.map((reason) => h("label", { className: "choice" },
        h("input", { type: "radio", name: "reason", value: reason, required: true }), reason))),
    labelled(messages.reportDetails, details),
    h("div", { className: "actions" },
      submit,
      h("button", { type: "button", className: "cancel", onclick: onCancel }, messages.cancel)));
  const box = h("div", { className: "report-box" }, form, notice);

  whenSubmitted(form, submit, messages.sending, async () => {
    const extra = details.value.trim();
    notice.say("");
    await onSend(form.elements.reason.value + (extra ? `: ${extra}` : ""));
    form.remove();
    notice.say(messages.reportThanks);
  }, (error) => notice.say(describe(error, messages, messages.reportTooMany, messages.reportTooManyLater), true));
  return box;
}
