/* What the widget remembers in localStorage, kept apart per comment server. */

/** The reader's details and edit tokens for the comment server at `origin`. */
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
  };
}

// Storage can be full or switched off (private modes, sandboxed frames): the widget works without it.
function read(key) {
  try {
    return JSON.parse(localStorage.getItem(key));
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* Nothing is lost but convenience. */
  }
}
