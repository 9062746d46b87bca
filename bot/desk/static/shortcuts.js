// Keyboard shortcuts of the console, listed in a help overlay opened with "?". Single keys act only when
// the agent is not typing in a field; the ones with Ctrl work in the reply and resolution boxes too. "n" opens
// the next waiting customer only for an agent the desk offers new customers to (bot/desk/service.py).
"use strict";

(() => {
  const SHORTCUTS = [
    ["n", "Mở khách đang chờ tiếp theo"],
    ["c", "Nhận khách đang xem (ở hàng chờ: khách chờ lâu nhất)"],
    ["Ctrl + Enter", "Gửi tin nhắn (trong ô trả lời hoặc ghi chú)"],
    ["Ctrl + Shift + X", "Đóng cuộc trò chuyện (sau khi ghi kết quả xử lý)"],
    ["?", "Mở bảng phím tắt này"],
    ["Esc", "Đóng bảng phím tắt"],
  ];
  const conversation = document.getElementById("conversation");
  const shownHandoff = conversation ? Number(conversation.dataset.handoff) : null;
  let help = null;

  function hint(message) {
    let box = document.getElementById("shortcut-hint");
    if (!box) {
      box = document.createElement("p");
      box.id = "shortcut-hint";
      box.className = "shortcut-hint";
      box.setAttribute("role", "status");
      document.body.append(box);
    }
    box.textContent = message;
    box.hidden = false;
    clearTimeout(hint.timer);
    hint.timer = setTimeout(() => { box.hidden = true; }, 4000);
  }

  function buildHelp() {
    const overlay = document.createElement("div");
    overlay.id = "shortcuts-help";
    overlay.className = "overlay";
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-modal", "true");
    overlay.setAttribute("aria-labelledby", "shortcuts-title");
    const card = document.createElement("section");
    card.className = "card";
    const title = document.createElement("h2");
    title.id = "shortcuts-title";
    title.textContent = "Phím tắt";
    const list = document.createElement("dl");
    for (const [keys, action] of SHORTCUTS) {
      const term = document.createElement("dt");
      const key = document.createElement("kbd");
      key.textContent = keys;
      term.append(key);
      const description = document.createElement("dd");
      description.textContent = action;
      list.append(term, description);
    }
    const close = document.createElement("button");
    close.type = "button";
    close.className = "secondary";
    close.textContent = "Đóng (Esc)";
    close.addEventListener("click", hideHelp);
    card.append(title, list, close);
    overlay.append(card);
    overlay.addEventListener("click", (event) => { if (event.target === overlay) hideHelp(); });
    document.body.append(overlay);
    return overlay;
  }

  function showHelp() {
    help = help || buildHelp();
    help.hidden = false;
    help.querySelector("button").focus();
  }

  function hideHelp() {
    if (help) help.hidden = true;
  }

  // The next customer is offered as the "waiting" alert is: only to an agent who is ready, below their capacity.
  function notOffered() {
    const status = document.getElementById("agent-status-select");
    const chosen = status ? status.value : "online";
    if (chosen !== "online") {
      const label = status.options[status.selectedIndex].text;
      return `Bạn đang ở trạng thái “${label}”: chọn “Sẵn sàng” để nhận khách mới nhé.`;
    }
    return "Bạn đã nhận đủ số cuộc trò chuyện tối đa cùng lúc. Bạn đóng hoặc trả bớt một cuộc rồi mở khách tiếp theo nhé.";
  }

  async function nextWaiting() {
    const reply = await fetch("/queue.json", { credentials: "same-origin" });
    if (reply.status === 401) { window.location = "/login"; return; }
    const state = await reply.json();
    if (!state.offered) { hint(notOffered()); return; }
    const waiting = state.waiting;
    const current = waiting.findIndex((row) => row.id === shownHandoff);
    const next = waiting[current + 1] || (current > 0 ? waiting[0] : null);
    if (next) window.location.assign(`/handoffs/${next.id}`);
    else hint("Không còn khách nào khác đang chờ.");
  }

  function claim() {
    const form = document.querySelector('form[action$="/claim"]');
    if (form) form.requestSubmit();
    else hint(conversation ? "Cuộc trò chuyện này không chờ nhận." : "Chưa có khách nào chờ.");
  }

  function closeConversation() {
    const form = document.getElementById("close-form");
    if (!form) return;
    const resolution = document.getElementById("resolution");
    if (!resolution.value.trim()) {
      resolution.focus();
      hint("Bạn ghi kết quả xử lý rồi bấm Ctrl + Shift + X lần nữa nhé.");
      return;
    }
    form.requestSubmit();
  }

  function typing(target) {
    return target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && help && !help.hidden) { hideHelp(); event.preventDefault(); return; }
    if (event.ctrlKey && event.key === "Enter" && typing(event.target)) {
      const form = event.target.closest("form");
      if (form && form.querySelector("textarea") === event.target) { form.requestSubmit(); event.preventDefault(); }
      return;
    }
    if (event.ctrlKey && event.shiftKey && event.key.toLowerCase() === "x") {
      closeConversation();
      event.preventDefault();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.key === "?") { showHelp(); event.preventDefault(); return; }
    if (help && !help.hidden) return;
    if (event.key === "n") { nextWaiting(); event.preventDefault(); }
    else if (event.key === "c") { claim(); event.preventDefault(); }
  });
})();
