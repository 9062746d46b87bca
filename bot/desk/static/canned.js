// Canned replies in the reply box: typing "/" opens a list filtered by what follows (on the shortcut and
// the title, with or without Vietnamese accents); ↑/↓ choose, Enter or Tab insert, Esc closes, a click
// inserts. The inserted text is filled by the server for this conversation (customer, order, shop facts);
// what it could not fill is a "[…]" gap, selected so the agent types over it. Text only (textContent).
"use strict";

(() => {
  const box = document.getElementById("reply-text");
  const conversation = document.getElementById("conversation");
  if (!box || !conversation) return;
  const handoff = conversation.dataset.handoff;
  const SHOWN = 8;

  const popup = document.createElement("ul");
  popup.id = "canned-popup";
  popup.className = "canned-popup";
  popup.setAttribute("role", "listbox");
  popup.setAttribute("aria-label", "Câu trả lời mẫu");
  popup.hidden = true;
  box.parentElement.classList.add("canned-anchor");
  box.insertAdjacentElement("afterend", popup);
  box.setAttribute("aria-controls", popup.id);
  box.setAttribute("aria-autocomplete", "list");
  box.setAttribute("aria-expanded", "false");

  let replies = null; // loaded at the first "/"
  let loading = null; // the one request for them: every key typed meanwhile waits on it
  let generation = 0; // bumped by each key and each close: a list answered after either is dropped
  let matches = [];
  let active = 0;
  let trigger = null; // {start, query}: where the "/" is, and what follows it up to the caret
  let dismissedAt = -1; // where the "/" was that Esc dismissed: its list stays closed while it is there

  // "Phí ship" and "phi ship" are the same query: compare without accents, đ as d, in lower case.
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase();
  }

  function load() {
    if (loading === null) {
      loading = fetch("/canned.json", { credentials: "same-origin" })
        .then((response) => (response.ok ? response.json() : []))
        .then((list) => { replies = list; return list; })
        .catch((error) => { loading = null; throw error; }); // the next key asks again
    }
    return loading;
  }

  function findTrigger() {
    if (box.selectionStart !== box.selectionEnd) return null;
    const before = box.value.slice(0, box.selectionStart);
    const found = /(^|\s)\/([^\s/]{0,40})$/.exec(before);
    if (!found) return null;
    return { start: before.length - found[2].length - 1, query: found[2] };
  }

  function rank(query) {
    const wanted = fold(query);
    const scored = [];
    for (const reply of replies) {
      const shortcut = fold(reply.shortcut), title = fold(reply.title);
      const score = shortcut.startsWith(wanted) ? 0 : title.startsWith(wanted) ? 1
        : shortcut.includes(wanted) ? 2 : title.includes(wanted) ? 3 : -1;
      if (score >= 0) scored.push([score, reply]);
    }
    scored.sort((a, b) => a[0] - b[0] || a[1].shortcut.localeCompare(b[1].shortcut));
    return scored.slice(0, SHOWN).map((pair) => pair[1]);
  }

  function close() {
    generation += 1; // a list still loading stays closed: the agent chose, pressed Esc or left the box
    popup.hidden = true;
    popup.replaceChildren();
    trigger = null;
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
  }

  function draw() {
    popup.replaceChildren();
    if (matches.length === 0) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = replies.length ? "Không có câu trả lời mẫu nào khớp." : "Chưa có câu trả lời mẫu nào.";
      popup.append(empty);
    }
    matches.forEach((reply, index) => {
      const item = document.createElement("li");
      item.id = `canned-option-${reply.id}`;
      item.className = "canned-option";
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", index === active ? "true" : "false");
      const shortcut = document.createElement("strong");
      shortcut.textContent = `/${reply.shortcut}`;
      const title = document.createElement("span");
      title.className = "canned-title";
      title.textContent = reply.title;
      const preview = document.createElement("small");
      preview.className = "canned-preview";
      preview.textContent = reply.text;
      item.append(shortcut, title, preview);
      item.addEventListener("mousedown", (event) => event.preventDefault()); // the box keeps the focus
      item.addEventListener("click", () => insert(reply));
      item.addEventListener("mousemove", () => { if (active !== index) { active = index; draw(); } });
      popup.append(item);
    });
    popup.hidden = false;
    box.setAttribute("aria-expanded", "true");
    if (matches.length) {
      box.setAttribute("aria-activedescendant", `canned-option-${matches[active].id}`);
      popup.querySelector('[aria-selected="true"]').scrollIntoView({ block: "nearest" });
    }
  }

  async function update() {
    const mine = ++generation;
    const found = findTrigger();
    if (!found) dismissedAt = -1; // the "/" Esc dismissed is gone: the next one opens the list again
    if (!found || found.start === dismissedAt) { close(); return; }
    await load();
    if (mine !== generation) return; // a later key, a choice or Esc came meanwhile: never reopen over it
    const current = findTrigger(); // the agent may have typed on while the list loaded
    if (!current || current.start !== found.start) { if (!current) close(); return; }
    if (!trigger || trigger.query !== current.query) active = 0;
    trigger = current;
    matches = rank(current.query);
    draw();
  }

  async function insert(reply) {
    const at = trigger ? trigger.start : box.selectionStart;
    close();
    const response = await fetch(`/handoffs/${handoff}/canned.json?reply=${reply.id}`, { credentials: "same-origin" });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = document.getElementById("error");
      if (error) { error.textContent = data.error || "Không lấy được câu trả lời mẫu."; error.hidden = false; }
      return;
    }
    // replace the "/query" the agent typed (up to the caret) with the filled text
    const end = box.value[at] === "/" ? Math.max(box.selectionStart, at + 1) : at;
    box.setRangeText(data.text, at, end, "end");
    const gap = data.gaps.length ? box.value.indexOf(data.gaps[0], at) : -1;
    if (gap >= 0 && gap < at + data.text.length) box.setSelectionRange(gap, gap + data.gaps[0].length);
    box.focus();
  }

  box.addEventListener("input", update);
  box.addEventListener("click", update);
  box.addEventListener("blur", close);
  box.addEventListener("keydown", (event) => {
    if (popup.hidden) return;
    if (event.key === "Escape") {
      event.preventDefault();
      dismissedAt = trigger ? trigger.start : -1;
      close();
    } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && matches.length) {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
      draw();
    } else if ((event.key === "Enter" || event.key === "Tab") && matches.length && !event.shiftKey) {
      event.preventDefault();
      insert(matches[active]);
    }
  });
  box.addEventListener("keyup", (event) => {
    if (event.key === "ArrowLeft" || event.key === "ArrowRight" || event.key === "Home" || event.key === "End") update();
  });
})();
