/* What the widget remembers in localStorage, kept apart per comment server. */

// Where storage is switched off or full (private modes, sandboxed frames), values live as long as the page.
const memory = new Map();
const READER_KEY = /^[\w-]{43}$/;

/** The reader's details, reader key, edit tokens and reports for the comment server at `origin`. */
export function createStore(origin) {
  const key = (name) => `comments:${origin}:${name}`;
  return {
    author() {
      return read(key("author")) ?? {};
    },
    rememberAuthor(name, email) {
      write(key("author"), { name, email });
    },
    saveEditToken(commentId, token) {
      write(key(`edit:${commentId}`), token);
    },
    /** Whether this browser posted the comment (it holds the comment's edit token). */
    owns(commentId) {
      return read(key(`edit:${commentId}`)) != null;
    },
    /** The reader key: a random secret made on first use, which lets the server tell readers apart. */
    reader() {
      let value = read(key("reader"));
      if (!READER_KEY.test(value)) {
        value = randomKey();
        write(key("reader"), value);
      }
      return value;
    },
    reported(commentId) {
      return read(key(`reported:${commentId}`)) === true;
    },
    rememberReport(commentId) {
      write(key(`reported:${commentId}`), true);
    },
  };
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
