// cskh-bot website chat widget. Embed with one tag:
//   <script src="https://<bot-host>/webhooks/socketio/widget.js" defer></script>
// Talks to Rasa's socket.io channel; keeps the session and the history across
// page reloads (localStorage); catches up on agent messages missed while
// disconnected from the REST inbox. Customer and agent text is only ever set
// with textContent. The session id is the customer's secret (whoever has it reads
// their conversation): 128 bits from crypto.getRandomValues, sent to the inbox in a
// header, never in a URL. The paperclip sends a picture or PDF (the server judges it by its bytes; the
// customer sees their own picture as a small thumbnail drawn here, kept in the history).
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
  const MAX_FILE_BYTES = 10 * 1024 * 1024;
  const THUMBNAIL_PX = 240;
  const FILE_TOO_BIG = "Tệp lớn quá (tối đa 10 MB), bạn gửi tệp nhỏ hơn giúp mình nhé.";
  const FILE_NOT_SENT = "Mình chưa nhận được tệp, bạn kiểm tra kết nối rồi gửi lại giúp mình nhé.";

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

  // a drawn paperclip: an emoji shows as an empty box where the computer has no emoji font
  function paperclip() {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "18");
    svg.setAttribute("height", "18");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", "M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l9.2-9.2a3.7 3.7 0 0 1 5.2 5.2l-9.2 9.2a1.8 1.8 0 0 1-2.6-2.6l8.5-8.5");
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2");
    path.setAttribute("stroke-linecap", "round");
    svg.append(path);
    return svg;
  }

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
  const attach = element("button", "cskh-attach");
  attach.type = "button";
  attach.append(paperclip());
  attach.title = "Gửi ảnh hoặc tệp PDF (tối đa 10 MB)";
  attach.setAttribute("aria-label", "Gửi ảnh hoặc tệp PDF");
  const picker = element("input", "cskh-file");
  picker.type = "file";
  picker.accept = "image/*,application/pdf";  // a hint for the picker only: the server decides
  picker.hidden = true;
  form.append(attach, picker, input, send);
  panel.append(header, status, list, typing, quick, form);
  document.body.append(launcher, panel);

  function remember(entry) {
    history.push(entry);
    history = history.slice(-HISTORY_LIMIT);
    store.setItem(historyKey, JSON.stringify(history));
  }

  // an agent's picture or PDF: a link the bot server signed for this session (connectors/files.py)
  const FILE_PATH = /^files\/[0-9a-f]{32}\?e=\d+&s=[0-9a-f]{64}$/;
  function fileView(file) {
    if (!file || !FILE_PATH.test(file.path || "")) return null;
    const link = element("a", "cskh-file", file.kind === "image" ? undefined : `📄 ${file.name}`);
    link.href = `${files}/${file.path}`;
    link.target = "_blank";
    link.rel = "noopener";
    if (file.kind === "image") {
      const image = element("img", "cskh-image");
      image.src = link.href;
      image.alt = file.name;
      link.append(image);
    }
    return link;
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
      const image = element("img", "cskh-thumb");
      image.src = entry.image;  // a data: URL this page drew from the customer's own file
      image.alt = "Ảnh bạn đã gửi";
      item.append(image);
    } else if (entry.picture) {
      const picture = element("img", "cskh-image");
      picture.src = entry.picture;  // a product's picture (pictureUrl: this server's or https)
      picture.alt = "Hình sản phẩm";
      picture.loading = "lazy";
      item.append(picture);
    } else if (entry.fileName) {
      item.append(element("span", "cskh-text", `📎 ${entry.fileName}`));
    } else {
      item.append(element("span", "cskh-text", entry.text));
      const file = fileView(entry.file);  // an agent's picture or PDF, by its signed link
      if (file) item.append(file);
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
      const entry = { from: "bot", picture: image, text: "" };
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
      ? { from: "agent", agent: message.agent, text: message.text, ts: message.timestamp, file: message.attachment }
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

  async function thumbnail(file) {
    // a small JPEG of the picture for the history (localStorage): never the file itself
    try {
      const bitmap = await createImageBitmap(file);
      const scale = Math.min(1, THUMBNAIL_PX / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return canvas.toDataURL("image/jpeg", 0.8);
    } catch (error) {
      return null;  // not a picture the browser can draw: the server will say what it is
    }
  }

  function tell(text) {
    const entry = { from: "bot", text };
    remember(entry);
    render(entry);
  }

  async function sendFile(file) {
    if (file.size > MAX_FILE_BYTES) return tell(FILE_TOO_BIG);
    const image = file.type.startsWith("image/") ? await thumbnail(file) : null;
    const entry = image ? { from: "user", image } : { from: "user", fileName: file.name };
    remember(entry);
    render(entry);
    showQuickReplies([]);
    const body = new FormData();
    body.append("file", file, file.name);
    attach.disabled = true;
    try {
      const reply = await fetch(`${files}/upload`, { method: "POST", body, headers: { [SESSION_HEADER]: sessionId } });
      if (reply.ok) {
        setTyping(true);  // the bot's answer comes on the socket
      } else {
        const refusal = await reply.json().catch(() => ({}));
        tell(refusal.reason || FILE_NOT_SENT);
      }
    } catch (error) {
      tell(FILE_NOT_SENT);
    } finally {
      attach.disabled = false;
    }
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
  attach.addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    const [file] = picker.files;
    picker.value = "";
    if (file) sendFile(file);
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
