/*
  Keyboard helpers for the moderator pages. Every action stays a plain form POST (the pages work
  without this file): the keys only move a "current" comment and click its own buttons.
*/
(() => {
  "use strict";
  const KEYS = [
    ["j / k", "next / previous comment"],
    ["a", "approve"],
    ["r", "remove (with the reason typed in its field, if any)"],
    ["Shift+R", "type a reason for removing"],
    ["s", "mark as spam"],
    ["f", "feature"],
    ["b", "ban the author"],
    ["x", "select or unselect"],
    ["Shift+A", "approve the selected comments"],
    ["o / Enter", "open the comment's page"],
    ["?", "show or hide these keys"],
  ];
  let current = null, help = null, sent = false;

  const items = () => [...document.querySelectorAll("li.item")];
  // Keys belong to fields that take text; a focused checkbox or button still lets them through.
  const TEXT_FIELDS = "textarea, select, input:not([type=checkbox], [type=radio], [type=button], [type=submit])";
  const typing = (el) => el instanceof Element && (el.matches(TEXT_FIELDS) || el.isContentEditable);

  function setCurrent(item, focus) {
    if (!item) return;
    if (current && current !== item) current.classList.remove("current");
    current = item;
    item.classList.add("current");
    if (focus) {
      item.focus({ preventScroll: true });
      item.scrollIntoView({ block: "nearest" });
    }
  }

  function move(step) {
    const list = items();
    const next = list[list.indexOf(current) + step];
    setCurrent(next || current || list[0], true);
  }

  function press(selector) {
    const control = current?.querySelector(selector);
    if (!control || sent) return;
    // A click keeps the button as the submitter, so the server sees its name and value.
    if (control.form) sent = true;
    control.click();
  }

  function toggleSelected(item) {
    const box = item?.querySelector("input[name=ids]");
    if (box) { box.checked = !box.checked; sync(box); }
  }

  function sync(box) {
    box.closest("li.item")?.classList.toggle("selected", box.checked);
  }

  function approveSelected() {
    const button = document.querySelector("form.bulk button[name=action][value=approve]");
    if (button && !sent && document.querySelector("input[name=ids]:checked")) {
      sent = true;
      button.click();
    }
  }

  function buildHelp() {
    const dialog = document.createElement("dialog");
    dialog.className = "keys-help";
    dialog.setAttribute("aria-labelledby", "keys-help-title");
    const title = document.createElement("h2");
    title.id = "keys-help-title";
    title.textContent = "Keyboard shortcuts";
    const list = document.createElement("dl");
    for (const [key, what] of KEYS) {
      const dt = document.createElement("dt");
      for (const part of key.split(" / ")) {
        if (dt.childNodes.length) dt.append(" / ");
        const kbd = document.createElement("kbd");
        kbd.textContent = part;
        dt.append(kbd);
      }
      const dd = document.createElement("dd");
      dd.textContent = what;
      list.append(dt, dd);
    }
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = "Close";
    close.addEventListener("click", () => dialog.close());
    dialog.append(title, list, close);
    document.body.append(dialog);
    return dialog;
  }

  function toggleHelp() {
    help = help || buildHelp();
    if (help.open) help.close();
    else help.showModal();
  }

  const ACTIONS = {
    j: () => move(1),
    k: () => move(-1),
    a: () => press('[data-key="a"]'),
    r: () => press('[data-key="r"]'),
    s: () => press('[data-key="s"]'),
    f: () => press('[data-key="f"]'),
    b: () => press('[data-key="b"]'),
    o: () => press("h2 a"),
    Enter: () => press("h2 a"),
    x: () => toggleSelected(current),
    "Shift+a": approveSelected,
    "Shift+r": () => current?.querySelector(".reason input")?.focus(),
  };

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (typing(event.target)) return;
    if (event.key === "?") { event.preventDefault(); toggleHelp(); return; }
    if (help && help.open) return;
    // Enter on a link or button keeps its own meaning.
    if (event.key === "Enter" && event.target.closest("a, button, summary")) return;
    // Letters by their lower case, so Caps Lock does not turn "a" into "approve all".
    const letter = /^[a-z]$/i.test(event.key);
    const action = ACTIONS[letter ? (event.shiftKey ? "Shift+" : "") + event.key.toLowerCase() : event.key];
    if (!action || event.repeat || !items().length) return;
    event.preventDefault();
    action();
  }

  function start() {
    document.documentElement.classList.add("has-keys");
    document.querySelectorAll("input[name=ids]").forEach(sync);
    const target = /^#c\d+$/.test(location.hash) && document.getElementById(location.hash.slice(1));
    if (target && target.matches("li.item")) setCurrent(target, true);
    else setCurrent(items()[0], false);
    document.addEventListener("keydown", onKey);
    document.addEventListener("change", (event) => {
      if (event.target.matches("input[name=ids]")) sync(event.target);
    });
    document.addEventListener("click", (event) => setCurrent(event.target.closest("li.item"), false));
    document.addEventListener("focusin", (event) => setCurrent(event.target.closest?.("li.item"), false));
    // Coming back through the history shows this page again: its buttons work again too.
    window.addEventListener("pageshow", () => { sent = false; });
  }

  // Loaded with `defer`: the page is parsed by now.
  start();
})();
