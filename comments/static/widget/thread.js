/* The nested thread: comments, placeholders, Reply buttons and the cap on indentation. */
import { h, setTrustedServerHtml } from "./dom.js";
import { absoluteTime, format, relativeTime } from "./format.js";

// Replies nest this many levels deep; deeper ones line up under their parent, naming whom they answer.
const MAX_DEPTH = 4;

/**
 * A thread view; `onReply(comment, item, button)` runs when a reader clicks a Reply button, and
 * `extraButton(comment, item)` may add one more button (or null) beside it.
 */
export function createThread(messages, onReply, extraButton) {
  const element = h("ol", { className: "thread" });
  const nodes = new Map();

  function comment(data, replyTo) {
    const item = h("li", { className: "comment", id: `comment-${data.id}`, tabIndex: -1 });
    if (data.html == null) {
      item.append(h("p", { className: "placeholder" }, messages[data.status] ?? messages.removed));
      return item;
    }
    const created = new Date(data.created_at);
    const button = h("button", { type: "button", className: "reply", "aria-expanded": "false" }, messages.reply);
    button.addEventListener("click", () => onReply(data, item, button));
    const body = h("div", { className: "body" });
    setTrustedServerHtml(body, data.html);
    item.append(h("article", {},
      h("header", {},
        author(data.author),
        h("time", { dateTime: data.created_at, title: absoluteTime(created, messages.locale) },
          relativeTime(created, messages.locale)),
        replyTo && h("span", { className: "in-reply-to" }, format(messages.inReplyTo, { name: replyTo }))),
      body,
      h("footer", {}, button, extraButton(data, item))));
    return item;
  }

  function add(data, parent) {
    if (nodes.has(data.id)) return nodes.get(data.id);
    const depth = parent ? parent.depth + 1 : 0;
    const flat = depth > MAX_DEPTH;
    const item = comment(data, flat ? parent.name : null);
    (parent ? parent.replies : element).append(item);
    const replies = depth < MAX_DEPTH ? item.appendChild(h("ol", { className: "replies" })) : item.parentNode;
    const node = { item, depth, replies, name: data.author?.name };
    nodes.set(data.id, node);
    for (const reply of data.replies ?? []) add(reply, node);
    return node;
  }

  return {
    element,
    /** Show comments as the thread endpoint lists them (nested, in order). */
    render(comments) {
      for (const data of comments) add(data, null);
    },
    /** Show one new comment where it belongs; returns its list item. */
    insert(data) {
      return add(data, nodes.get(data.parent_id) ?? null).item;
    },
  };
}

function author({ name, website }) {
  const href = httpUrl(website);
  return href
    ? h("a", { className: "author", href, rel: "nofollow ugc noopener", target: "_blank" }, name)
    : h("span", { className: "author" }, name);
}

/** The URL when it is http(s), so that a stored website can never become a javascript: link. */
function httpUrl(value) {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}
