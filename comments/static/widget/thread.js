/* The nested thread: comments, placeholders, long reply lists folded, and finding one comment again. */
import { h, setTrustedServerHtml } from "./dom.js";
import { absoluteTime, format, plural, relativeTime } from "./format.js";

// Replies nest this many levels deep; deeper ones line up under their parent, naming whom they answer.
const MAX_DEPTH = 4;
// Replies shown under each comment before a "Show N more replies" button.
const SHOWN_REPLIES = 3;

/**
 * A thread view. `footer(data, node)` makes the buttons under a comment (votes, Reply, Edit, Report).
 * A node is `{data, item, depth, parent, list}`: the comment's data, its list item, and the list its
 * replies go into. Every comment received is known, even while it waits folded away unrendered.
 */
export function createThread(messages, footer) {
  const element = h("ol", { className: "thread" });
  const locale = messages.locale;
  let nodes = new Map();
  let known = new Map();

  function learn(data, parent) {
    known.set(data.id, { data, parent });
    for (const reply of data.replies ?? []) learn(reply, data.id);
  }

  function add(data, parent, before = null) {
    if (nodes.has(data.id)) return null;
    const depth = parent ? parent.depth + 1 : 0;
    const item = h("li", { className: "comment", id: `comment-${data.id}`, tabIndex: -1 });
    const container = parent ? parent.list : element;
    container.insertBefore(item, before);
    const nested = depth < MAX_DEPTH;
    const node = {
      data, item, depth, parent,
      list: nested ? item.appendChild(h("ol", { className: "replies" })) : container,
      replyTo: depth > MAX_DEPTH ? parent.data.author?.name : null,
    };
    nodes.set(data.id, node);
    fill(node);
    addReplies(node, data.replies ?? [], nested ? null : before);
    return node;
  }

  function fill(node) {
    const { data, item } = node;
    item.classList.toggle("featured", Boolean(data.featured && data.html));
    if (data.html == null) {
      item.prepend(h("p", { className: "placeholder" }, messages[data.status] ?? messages.removed));
      return;
    }
    const body = h("div", { className: "body" });
    setTrustedServerHtml(body, data.html);
    item.prepend(h("article", {},
      h("header", {},
        h("h3", {}, author(data.author)),
        data.author?.verified && h("span", { className: "badge verified", title: messages.verifiedTitle },
          messages.verified),
        timeAgo(data.created_at, locale),
        data.featured && h("span", { className: "badge" }, messages.featured),
        data.status === "pending" && h("span", { className: "badge pending" }, messages.awaiting),
        data.edited_at && h("span", { className: "edited", title: absoluteTime(new Date(data.edited_at), locale) },
          messages.edited),
        node.replyTo && h("span", { className: "in-reply-to" }, format(messages.inReplyTo, { name: node.replyTo }))),
      body,
      h("footer", {}, ...footer(data, node))));
  }

  /** The first few replies now; the rest behind a button, rendered when it is pressed. */
  function addReplies(node, replies, before) {
    for (const reply of replies.slice(0, SHOWN_REPLIES)) add(reply, node, before);
    const rest = replies.slice(SHOWN_REPLIES);
    if (!rest.length) return;
    const more = h("li", { className: "more" }, h("button", {
      type: "button",
      className: "link",
      onclick: () => node.unfold().item.focus(),
    }, plural(messages.moreReplies, rest.length, locale)));
    node.list.insertBefore(more, before);
    node.unfold = () => {
      node.unfold = null;
      const shown = rest.map((reply) => add(reply, node, more));
      more.remove();
      return shown[0];
    };
  }

  /** The node of a comment that was received, unfolding the replies it is among; else null. */
  function reveal(id) {
    if (!nodes.has(id)) {
      const parent = known.has(id) && reveal(known.get(id).parent);
      parent?.unfold?.();
    }
    return nodes.get(id) ?? null;
  }

  return {
    element,
    reveal,
    knows: (id) => known.has(id),
    /** Start again, empty. */
    clear() {
      nodes = new Map();
      known = new Map();
      element.replaceChildren();
    },
    /** Add top-level comments (with their replies) at the end; returns the first one new here. */
    render(comments) {
      for (const data of comments) learn(data, null);
      return comments.map((data) => add(data, null)).find(Boolean);
    },
    /** Show one new comment under its parent, or at the top (`first`) or end of the thread. */
    insert(data, first = false) {
      const parent = data.parent_id == null ? null : reveal(data.parent_id);
      learn(data, parent?.data.id ?? null);
      const top = first && [...element.children].find((item) => !item.matches(".featured"));
      return add(data, parent, parent ? null : top || null);
    },
    /** Show a comment's new version in place (its replies stay as they are). */
    update(id, { replies, ...data }) {
      const node = nodes.get(id);
      node.data = { ...node.data, ...data };
      node.item.querySelector(":scope > article").remove();
      fill(node);
    },
    /**
     * Take out a comment its author deleted: a placeholder where it has replies, else nothing.
     * Returns the placeholder, or null.
     */
    remove(id) {
      const node = nodes.get(id);
      node.item.querySelector(":scope > article").remove();
      if (![...known.values()].some((entry) => entry.parent === id)) {
        nodes.delete(id);
        known.delete(id);
        node.item.remove();
        return null;
      }
      node.data = { ...node.data, html: null, author: null, status: "deleted" };
      fill(node);
      return node.item;
    },
    /** Bring a comment into view, give it the focus and mark it. */
    highlight(node) {
      element.querySelector(".highlight")?.classList.remove("highlight");
      node.item.classList.add("highlight");
      node.item.scrollIntoView({ block: "center" });
      node.item.focus({ preventScroll: true });
    },
  };
}

/** "3 minutes ago", with the full date and time on hover. */
function timeAgo(iso, locale) {
  const date = new Date(iso);
  return h("time", { dateTime: iso, title: absoluteTime(date, locale) }, relativeTime(date, locale));
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
