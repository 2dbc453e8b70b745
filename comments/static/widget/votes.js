/* Votes on comments: an up-vote (and a down-vote where the site has them), pressed again to take back. */
import { h } from "./dom.js";
import { describe } from "./form.js";
import { plural } from "./format.js";

/**
 * Vote buttons for a thread: `(comment) => element`, or null for a comment that takes no votes.
 * `send(id, value)` casts 1, -1 or 0 (no vote) and resolves to `{score, value}`; `downvotes()`
 * says whether the thread has down-votes; `store` remembers the reader's own vote on each comment.
 */
export function createVotes({ messages, store, send, downvotes }) {
  return (comment) => {
    if (comment.status !== "approved") return null;
    let value = store.vote(comment.id);
    let busy = false;
    const score = h("span", { className: "score" });
    // Made only when a vote fails: an alert inserted with its words is announced at once.
    let failure;
    const button = (vote, label, glyph) => h("button", {
      type: "button",
      className: "vote",
      "aria-label": label,
      onclick: () => cast(vote),
    }, glyph);
    const buttons = [button(1, messages.upvote, "▲"), downvotes() && button(-1, messages.downvote, "▼")];
    const show = (points) => {
      score.textContent = plural(messages.score, points, messages.locale);
      buttons.forEach((b, i) => b && b.setAttribute("aria-pressed", String(value === 1 - 2 * i)));
    };
    // Buttons stay enabled while a vote is on its way, so that the keyboard focus stays on them.
    async function cast(vote) {
      if (busy) return;
      busy = true;
      failure?.remove();
      try {
        const answer = await send(comment.id, value === vote ? 0 : vote);
        value = answer.value;
        store.rememberVote(comment.id, value);
        show(answer.score);
      } catch (error) {
        failure = h("span", { className: "error", role: "alert" }, describe(error, messages));
        group.append(failure);
      } finally {
        busy = false;
      }
    }
    show(comment.score ?? 0);
    const group = h("span", { className: "votes", role: "group", "aria-label": messages.votes },
      buttons[0], score, buttons[1]);
    return group;
  };
}
