/* What the widget remembers in localStorage, kept apart per comment server. */

// Where storage is switched off or full (private modes, sandboxed frames), values live as long as the page.
const memory = new Map();
const READER_KEY = /^[\w-]{43}$/;
// The orders a thread can be read in; the first is the default.
export const SORTS = ["oldest", "newest", "top"];

/**
 * The reader's details, reader key, own comments, votes, reports and sort order for the comment
 * server at `origin`. An own comment is `{token, text, site, article}`: the edit token the server
 * handed out and the source text the reader wrote (the API answers only HTML), for editing it.
 */
export function createStore(origin) {
  const key = (name) => `comments:${origin}:${name}`;
  const pending = () => read(key("pending")) ?? [];
  const setPending = (ids) => write(key("pending"), ids);
  const store = {
    author: () => read(key("author")) ?? {},
    rememberAuthor(name, email) {
      write(key("author"), { name, email });
    },
    /** The reader's own comment, or null; an early widget stored the bare token. */
    own(id) {
      const value = read(key(`edit:${id}`));
      return typeof value === "string" ? { token: value } : value;
    },
    /** Remember a comment this browser posted; a held one is looked up again after a reload. */
    saveOwn(id, entry, held = false) {
      write(key(`edit:${id}`), { ...store.own(id), ...entry });
      if (held && !pending().includes(id)) setPending([...pending(), id]);
    },
    /** Stop looking up a held comment (it was published); with `all`, forget it was ours. */
    settle(id, all = false) {
      setPending(pending().filter((other) => other !== id));
      if (all) remove(key(`edit:${id}`));
    },
    /** The reader's held comments on one article, to show them again after a reload. */
    held(site, article) {
      return pending().filter((id) => {
        const own = store.own(id);
        return own?.site === site && own.article === article;
      });
    },
    /** Whether this browser posted the comment (it holds the comment's edit token). */
    owns: (id) => store.own(id) != null,
    /** The reader key: a random secret made on first use, which lets the server tell readers apart. */
    reader() {
      let value = read(key("reader"));
      if (!READER_KEY.test(value)) {
        value = randomKey();
        write(key("reader"), value);
      }
      return value;
    },
    reported: (id) => read(key(`reported:${id}`)) === true,
    rememberReport(id) {
      write(key(`reported:${id}`), true);
    },
    /** The reader's vote on a comment: 1, -1, or 0 for none. */
    vote: (id) => read(key(`vote:${id}`)) ?? 0,
    rememberVote(id, value) {
      if (value) write(key(`vote:${id}`), value);
      else remove(key(`vote:${id}`));
    },
    /** The reader's chosen order, else the embed's default, else oldest first. */
    sort: (fallback) => [read(key("sort")), fallback].find((sort) => SORTS.includes(sort)) ?? SORTS[0],
    rememberSort(sort) {
      write(key("sort"), sort);
    },
  };
  return store;
}

/** 32 random bytes, base64url without padding (43 characters). */
function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function read(key) {
  try {
    const value = localStorage.getItem(key);
    if (value != null) return JSON.parse(value);
  } catch {
    /* Unreadable or switched off: fall back to this page's memory. */
  }
  return memory.get(key) ?? null;
}

function write(key, value) {
  memory.set(key, value);
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* Kept in memory for this page: nothing is lost but convenience. */
  }
}

function remove(key) {
  memory.delete(key);
  try {
    localStorage.removeItem(key);
  } catch {
    /* Nothing stored there to remove. */
  }
}
