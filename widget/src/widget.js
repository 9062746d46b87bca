// cskh-bot website chat widget. Embed with one tag:
//   <script src="https://<bot-host>/webhooks/socketio/widget.js" defer></script>
// Talks to Rasa's socket.io channel; keeps the session and the history across
// page reloads (localStorage); catches up on agent messages missed while
// disconnected from the REST inbox. Customer and agent text is only ever set
// with textContent. The session id is the customer's secret (whoever has it reads
// their conversation): 128 bits from crypto.getRandomValues, sent to the inbox in a
// header, never in a URL.
(function () {
  "use strict";
  if (window.__cskhWidget) return;
  window.__cskhWidget = true;

  const script = document.currentScript;
  const base = new URL(script.src).href.replace(/\/webhooks\/socketio\/widget\.js.*$/, "");
  const files = `${base}/webhooks/socketio`;
  const store = window.localStorage;
  const HISTORY_LIMIT = 100;
  const TYPING_TIMEOUT_MS = 15000;

  const SESSION_ID = /^[0-9a-f]{32}$/;
  const SESSION_HEADER = "X-Chat-Session";

  function newId() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));  // no weaker fallback: no guessable sessions
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // ids from older versions that did not come from a secure generator are replaced
  const stored = store.getItem("cskh_session_id");
  const sessionId = SESSION_ID.test(stored || "") ? stored : newId();
  store.setItem("cskh_session_id", sessionId);
  const historyKey = `cskh_history_${sessionId}`;
  const sinceKey = `cskh_inbox_since_${sessionId}`;
  let history = JSON.parse(store.getItem(historyKey) || "[]");
  const seenDesk = new Set(history.filter((m) => m.ts).map((m) => m.ts));

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const css = element("link");
  css.rel = "stylesheet";
  css.href = `${files}/widget.css`;
  document.head.append(css);

  const launcher = element("button", "cskh-launcher", "💬 Chat với shop");
  launcher.type = "button";
  launcher.setAttribute("aria-label", "Mở khung chat hỗ trợ");
  const panel = element("section", "cskh-panel");
  panel.setAttribute("aria-label", "Chat hỗ trợ khách hàng");
  panel.hidden = true;
  const header = element("header", "cskh-header");
  header.append(element("span", "cskh-title", "Hỗ trợ khách hàng"));
  const closeButton = element("button", "cskh-close", "×");
  closeButton.type = "button";
  closeButton.setAttribute("aria-label", "Đóng khung chat");
  header.append(closeButton);
  const status = element("div", "cskh-status", "Đang kết nối…");
  const list = element("ol", "cskh-messages");
  list.setAttribute("aria-live", "polite");
  const typing = element("div", "cskh-typing", "Đang soạn tin…");
  typing.hidden = true;
  const quick = element("div", "cskh-quick");
  const form = element("form", "cskh-form");
  const input = element("input", "cskh-input");
  input.type = "text";
  input.placeholder = "Nhập tin nhắn…";
  input.maxLength = 2000;
  input.setAttribute("aria-label", "Tin nhắn");
  const send = element("button", "cskh-send", "Gửi");
  send.type = "submit";
  form.append(input, send);
  panel.append(header, status, list, typing, quick, form);
  document.body.append(launcher, panel);

  function remember(entry) {
    history.push(entry);
    history = history.slice(-HISTORY_LIMIT);
    store.setItem(historyKey, JSON.stringify(history));
  }

  // a picture the bot sends (a product's): a path of the bot's server or an https link, never script
  function pictureUrl(src) {
    try {
      const url = new URL(src, base);
      return url.protocol === "https:" || url.origin === new URL(base).origin ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  function render(entry) {
    const item = element("li", `cskh-msg cskh-${entry.from}`);
    if (entry.from === "agent") item.append(element("span", "cskh-who", `Nhân viên ${entry.agent}`));
    if (entry.image) {
      const picture = element("img", "cskh-image");
      picture.src = entry.image;
      picture.alt = "Hình sản phẩm";
      picture.loading = "lazy";
      item.append(picture);
    } else {
      item.append(element("span", "cskh-text", entry.text));
    }
    list.append(item);
    list.scrollTop = list.scrollHeight;
  }

  function showQuickReplies(replies) {
    quick.replaceChildren();
    for (const reply of replies || []) {
      const button = element("button", "cskh-quick-reply", reply.title);
      button.type = "button";
      button.addEventListener("click", () => say(reply.payload, reply.title));
      quick.append(button);
    }
  }

  let typingTimer = null;
  function setTyping(on) {
    typing.hidden = !on;
    clearTimeout(typingTimer);
    if (on) typingTimer = setTimeout(() => { typing.hidden = true; }, TYPING_TIMEOUT_MS);
  }

  function receive(message) {
    const src = message && message.attachment && message.attachment.type === "image"
      && message.attachment.payload && message.attachment.payload.src;
    if (src) {
      const image = pictureUrl(String(src));
      if (!image) return;
      const entry = { from: "bot", image, text: "" };
      remember(entry);
      render(entry);
      return;
    }
    if (!message || !message.text) return;
    if (message.agent && message.timestamp) {
      if (seenDesk.has(message.timestamp)) return;
      seenDesk.add(message.timestamp);
      const since = Number(store.getItem(sinceKey) || 0);
      if (message.timestamp > since) store.setItem(sinceKey, String(message.timestamp));
    }
    const entry = message.agent
      ? { from: "agent", agent: message.agent, text: message.text, ts: message.timestamp }
      : { from: "bot", text: message.text, ts: message.timestamp };
    remember(entry);
    render(entry);
    setTyping(false);
    if (entry.from === "agent" && panel.hidden) open();  // an agent is writing: show it
    const replies = message.quick_replies || (message.buttons || []).map((b) => ({ title: b.title, payload: b.payload }));
    showQuickReplies(replies);
  }

  let socket = null;
  function say(payload, shown) {
    if (!payload.trim()) return;
    if (shown !== null) {
      const entry = { from: "user", text: shown || payload };
      remember(entry);
      render(entry);
    }
    showQuickReplies([]);
    setTyping(true);
    socket.emit("user_uttered", { message: payload, session_id: sessionId });
  }

  async function catchUp() {
    // messages sent while this page was closed or disconnected (an agent's reply, the CSAT question)
    const since = store.getItem(sinceKey) || String(Date.now() / 1000 - 86400);
    try {
      const reply = await fetch(`${base}/webhooks/rest/inbox?since=${encodeURIComponent(since)}`,
        { headers: { [SESSION_HEADER]: sessionId } });
      if (!reply.ok) return;
      for (const message of (await reply.json()).messages) receive(message);
    } catch (error) {
      // offline: the socket's reconnect will try again
    }
  }

  function open() {
    panel.hidden = false;
    launcher.hidden = true;
    window.sessionStorage.setItem("cskh_open", "1");
    if (history.length === 0 && socket && socket.connected) say("/greet", null);
    input.focus();
  }

  launcher.addEventListener("click", open);
  closeButton.addEventListener("click", () => {
    panel.hidden = true;
    launcher.hidden = false;
    window.sessionStorage.removeItem("cskh_open");
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    input.value = "";
    say(text);
  });

  for (const entry of history) render(entry);
  if (window.sessionStorage.getItem("cskh_open")) { panel.hidden = false; launcher.hidden = true; }

  const client = element("script");
  client.src = `${files}/socket.io.min.js`;
  client.onload = () => {
    socket = window.io(base, { path: "/socket.io", transports: ["websocket", "polling"] });
    socket.on("connect", () => socket.emit("session_request", { session_id: sessionId }));
    socket.on("session_confirm", () => {
      status.textContent = "";
      status.hidden = true;
      catchUp();
      if (!panel.hidden && history.length === 0) say("/greet", null);
    });
    socket.on("disconnect", () => {
      status.hidden = false;
      status.textContent = "Mất kết nối, đang kết nối lại…";
    });
    socket.on("bot_uttered", receive);
  };
  document.head.append(client);
})();
