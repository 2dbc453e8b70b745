/* The nested thread: comments, placeholders, long reply lists folded, and finding one comment again. */
import { h, setTrustedServerHtml } from "./dom.js";
import { absoluteTime, format, plural, relativeTime } from "./format.js";

// Replies nest this many levels deep; deeper ones line up under their parent, naming whom they answer.
const MAX_DEPTH = 4;
// Replies shown under each comment before a "Show N more replies" button.
const SHOWN_REPLIES = 3;

/**
 * A thread view. `footer(data, node)` makes the buttons under a comment (votes, Reply, Edit, Report);
 * `loadBranch(rootId)` fetches a top-level comment with all its replies, for those the server folded.
 * A node is `{data, item, depth, parent, list}`: the comment's data, its list item, and the list its
 * replies go into. Every comment received is known, even while it waits folded away unrendered.
 */
export function createThread(messages, footer, loadBranch) {
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

  /** A "Show N more replies" item in the node's list, before `before`. */
  function moreButton(node, n, before, onclick) {
    const button = h("button", { type: "button", className: "link", onclick }, plural(messages.moreReplies, n, locale));
    return node.list.insertBefore(h("li", { className: "more" }, button), before);
  }

  /**
   * The first few replies now; the rest behind a button, rendered when it is pressed. Replies the
   * server left off (`more_replies`) are behind a button that fetches the whole branch.
   */
  function addReplies(node, replies, before) {
    for (const reply of replies.slice(0, SHOWN_REPLIES)) add(reply, node, before);
    const rest = replies.slice(SHOWN_REPLIES);
    const folded = node.data.more_replies;
    let loading = false;
    // The button keeps the focus while it loads (a disabled one would drop it).
    const fetchMore = async ({ currentTarget: button }) => {
      if (loading) return;
      loading = true;
      button.textContent = messages.loading;
      try {
        expand(node.data.id, await loadBranch(rootOf(node.data.id)))?.item.focus();
      } catch {
        button.textContent = plural(messages.moreReplies, folded, locale);
      } finally {
        loading = false;
      }
    };
    const later = folded ? moreButton(node, folded, before, fetchMore) : before;
    if (!rest.length) return;
    const more = moreButton(node, rest.length, later, () => node.unfold().item.focus());
    node.unfold = () => {
      node.unfold = null;
      const shown = rest.map((reply) => add(reply, node, more));
      more.remove();
      return shown[0];
    };
  }

  function rootOf(id) {
    while (known.get(id)?.parent != null) id = known.get(id).parent;
    return id;
  }

  /**
   * Show a whole branch (a top-level comment with every reply) in place of the one shown, or at the
   * end; the reader's held replies in it stay. Returns the node of the first reply new under `id`.
   */
  function expand(id, branch) {
    const old = nodes.get(branch.id);
    const seen = new Set();
    const held = [];
    if (old) {
      seen.add(branch.id);
      for (const [cid, entry] of known) {
        if (!seen.has(entry.parent)) continue;
        seen.add(cid);
        if (entry.data.status === "pending") held.push(entry.data);
      }
      for (const cid of seen) {
        nodes.delete(cid);
        known.delete(cid);
      }
    }
    learn(branch, null);
    add(branch, null, old?.item ?? null);
    old?.item.remove();
    for (const data of held) if (!known.has(data.id) && known.has(data.parent_id)) api.insert(data);
    // The replies asked for are all shown, none folded again behind another button.
    reveal(id)?.unfold?.();
    const under = find(branch, id);
    const first = under && flat(under.replies ?? []).find((cid) => !seen.has(cid));
    return reveal(first ?? id);
  }

  /** The node of a comment that was received, unfolding the replies it is among; else null. */
  function reveal(id) {
    if (!nodes.has(id)) {
      const parent = known.has(id) && reveal(known.get(id).parent);
      parent?.unfold?.();
    }
    return nodes.get(id) ?? null;
  }

  const api = {
    element,
    reveal,
    expand,
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
  return api;
}

/** The comment with this id in a branch's data, or undefined. */
function find(data, id) {
  return data.id === id ? data : (data.replies ?? []).map((reply) => find(reply, id)).find(Boolean);
}

/** The ids of comments and their replies, depth-first. */
function flat(list) {
  return list.flatMap((data) => [data.id, ...flat(data.replies ?? [])]);
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
