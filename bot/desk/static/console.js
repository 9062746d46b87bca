// Live updates for the agents' console. Customer text is only ever set with
// textContent, never as HTML.
"use strict";

const csrf = document.body.dataset.csrf;

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || "Có lỗi, bạn thử lại nhé.");
  return data;
}

function showError(message) {
  const box = document.getElementById("error");
  if (!box) return;
  box.textContent = message || "";
  box.hidden = !message;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function clock(seconds) {
  return new Date(seconds * 1000).toLocaleString("vi-VN", {
    hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit",
  });
}

function waited(since) {
  const minutes = Math.max(0, Math.floor((Date.now() / 1000 - since) / 60));
  return minutes < 1 ? "vừa xong" : `${minutes} phút`;
}

// --- queue page ---------------------------------------------------------------

function labelCell(tag, labels) {
  const cell = element(tag, "labels");
  for (const label of labels || []) cell.append(element("span", "label", label), " ");
  return cell;
}

function renderQueue(state) {
  const body = document.getElementById("waiting");
  if (!body) return;
  body.replaceChildren();
  document.getElementById("waiting-count").textContent = state.waiting.length;
  if (state.waiting.length === 0) {
    const row = element("tr", "empty");
    const cell = element("td", "", "Chưa có khách nào chờ.");
    cell.colSpan = 7;
    row.append(cell);
    body.append(row);
  }
  for (const item of state.waiting) {
    const row = element("tr", item.my_team ? "my-team" : "");
    row.dataset.id = item.id;
    const since = element("td", "waited");
    since.dataset.since = item.created_at;
    since.textContent = waited(item.created_at);
    const form = element("form");
    form.method = "post";
    form.action = `/handoffs/${item.id}/claim`;
    const token = element("input");
    token.type = "hidden";
    token.name = "csrf_token";
    token.value = csrf;
    form.append(token, element("button", "", "Nhận"));
    const action = element("td");
    action.append(form);
    const mood = element("td", `mood mood-${item.mood_level}`, item.mood);
    mood.title = item.mood_cues;
    const team = element("td", "team", item.team_name + (item.transferred_from ? ` · chuyển từ ${item.transferred_from}` : ""));
    row.append(element("td", "", item.channel), since, element("td", "", item.reason), team, mood,
               labelCell("td", item.labels), element("td", "summary", item.summary), action);
    body.append(row);
  }
  const mine = document.getElementById("mine");
  mine.replaceChildren();
  for (const item of state.mine) {
    const from = item.transferred_from ? ` · chuyển từ ${item.transferred_from}` : "";
    const link = element("a", "", `#${item.id} · ${item.channel} · ${item.reason} · ${item.team_name}${item.mood ? ` · ${item.mood}` : ""}${from}`);
    link.href = `/handoffs/${item.id}`;
    const entry = element("li");
    entry.append(link, labelCell("span", item.labels));
    mine.append(entry);
  }
  if (state.mine.length === 0) mine.append(element("li", "empty", "Bạn chưa nhận cuộc trò chuyện nào."));
}

async function refreshQueue() {
  // the page's ?label= filter holds for its live updates too
  const response = await fetch(`/queue.json${window.location.search}`, { credentials: "same-origin" });
  if (response.status === 401) { window.location = "/login"; return; }
  renderQueue(await response.json());
}

function tickWaitTimes() {
  for (const cell of document.querySelectorAll(".waited")) cell.textContent = waited(Number(cell.dataset.since));
}

// --- conversation page --------------------------------------------------------

const conversation = document.getElementById("conversation");
const handoffId = conversation ? conversation.dataset.handoff : null;

// A line that has not reached the customer (Zalo/Messenger outbox): retried, or failed with the reason.
function showDelivery(item, delivery) {
  let mark = item.querySelector(".delivery");
  if (!delivery || delivery.status === "sent") { if (mark) mark.remove(); return; }
  if (!mark) { mark = element("span"); item.append(mark); }
  mark.className = `delivery ${delivery.status}`;
  mark.textContent = delivery.status === "failed" ? `chưa gửi được: ${delivery.reason}` : "đang gửi lại…";
}

// The transcript shows its newest line; a new line keeps it there unless the agent scrolled up to read.
function nearNewest(list) {
  return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
}

function showNewest(list) {
  list.scrollTop = list.scrollHeight;
}

function addMessage(message) {
  const list = document.getElementById("messages");
  if (list.querySelector(`[data-id="${message.id}"]`)) return;
  const follow = nearNewest(list);
  const who = message.role === "customer" ? "Khách"
    : message.role === "bot" ? "Bot"
    : message.role === "note" ? `Ghi chú nội bộ · ${message.author}` : message.author;
  const item = element("li", `msg ${message.role}`);
  item.dataset.id = message.id;
  item.append(element("span", "who", who), element("span", "text", message.text));
  if (message.file && window.cskhSentFile) item.append(window.cskhSentFile(message.file));  // files_out.js
  item.append(element("time", "", clock(message.sent_at)));
  showDelivery(item, message.delivery);
  list.append(item);
  if (follow) showNewest(list);
}

async function refreshMessages() {
  const response = await fetch(`/handoffs/${handoffId}/messages.json`, { credentials: "same-origin" });
  if (response.ok) for (const message of await response.json()) addMessage(message);
}

async function refreshSuggestions() {
  const list = document.getElementById("suggestions");
  if (!list) return;
  const response = await fetch(`/handoffs/${handoffId}/suggestions.json`, { credentials: "same-origin" });
  const suggestions = response.ok ? await response.json() : [];
  list.replaceChildren();
  if (suggestions.length === 0) list.append(element("li", "empty", "Chưa có gợi ý."));
  for (const suggestion of suggestions) {
    const button = element("button", "suggestion secondary", suggestion.text);
    button.type = "button";
    const name = suggestion.title || suggestion.topic;
    button.title = `${name} [${suggestion.topic}] (${Math.round(suggestion.confidence * 100)}%)`;
    button.addEventListener("click", () => {
      const box = document.getElementById("reply-text");
      box.value = suggestion.text;
      box.focus();
    });
    const entry = element("li");
    const label = element("small", "confidence", `${name} · độ tin cậy ${Math.round(suggestion.confidence * 100)}%`);
    label.dataset.topic = suggestion.topic;  // the id, for tooling; staff read the title
    entry.append(label, button);
    list.append(entry);
  }
}

function bindForm(id, url, field, after) {
  const form = document.getElementById(id);
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = form.querySelector("textarea");
    try {
      const result = await post(url, { [field]: box.value });
      showError("");
      after(result, box);
    } catch (error) {
      showError(error.message);
    }
  });
}

if (conversation && conversation.dataset.mine === "yes") {
  const base = `/handoffs/${handoffId}`;
  bindForm("reply-form", `${base}/reply`, "text", (_, box) => { box.value = ""; });
  bindForm("note-form", `${base}/note`, "text", (_, box) => { box.value = ""; });
  bindForm("close-form", `${base}/close`, "resolution", (result) => { window.location = result.next; });
  document.getElementById("handback").addEventListener("click", async () => {
    try {
      const result = await post(`${base}/handback`, {});
      window.location = result.next;
    } catch (error) {
      showError(error.message);
    }
  });
  refreshSuggestions();
}

if (conversation) showNewest(document.getElementById("messages"));

// --- live stream --------------------------------------------------------------

const stream = new EventSource(handoffId ? `/stream?handoff=${handoffId}` : "/stream");
// The server ends the stream at logout or expiry ("session") or when this conversation is no longer
// ours to see ("access"); reconnecting would only be refused, so leave the page.
stream.addEventListener("ended", (event) => {
  stream.close();
  if (document.body.dataset.leaving === "yes") return;  // this page's own action says where to go
  window.location = JSON.parse(event.data).reason === "access" ? "/?notice=taken" : "/login";
});
// Each (re)connection, perhaps to another desk instance after this one stopped: what changed while the
// stream was down is fetched again (lines already shown are kept once, by id).
stream.addEventListener("open", () => { if (handoffId) refreshMessages(); else refreshQueue(); });
stream.addEventListener("queue", () => { if (!handoffId) refreshQueue(); });
stream.addEventListener("message", (event) => {
  const message = JSON.parse(event.data);
  addMessage(message);
  if (message.role === "customer") refreshSuggestions();
});
stream.addEventListener("delivery", (event) => {
  const change = JSON.parse(event.data);
  const item = document.querySelector(`#messages [data-id="${change.id}"]`);
  if (item) showDelivery(item, change);
});
if (!handoffId) setInterval(tickWaitTimes, 15000);
tickWaitTimes();
