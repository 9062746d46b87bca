// "Gửi ảnh/tệp": an agent sends a picture or PDF (file input, drag and drop, or a pasted screenshot), and the
// transcript shows what was sent. Loaded before console.js, which calls cskhSentFile for lines with a file.
"use strict";

(function () {
  const MAX_BYTES = 10 * 1024 * 1024;
  const TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf"];

  // the transcript's view of a sent file: the picture itself, or a link for a PDF (URLs come from the desk)
  window.cskhSentFile = function (file) {
    const link = document.createElement("a");
    link.className = "sent-file";
    link.href = file.url;
    if (file.kind === "image") {
      link.target = "_blank";
      link.rel = "noopener";
      const image = document.createElement("img");
      image.src = file.url;
      image.alt = "Ảnh đã gửi";
      link.append(image);
    } else {
      link.textContent = "📄 Tải tệp";
    }
    return link;
  };

  const form = document.getElementById("file-form");
  const conversation = document.getElementById("conversation");
  if (!form || !conversation) return;
  const input = document.getElementById("file-input");
  const status = document.getElementById("file-status");
  const error = document.getElementById("error");
  const url = `/handoffs/${conversation.dataset.handoff}/attachment`;

  function say(message, isError) {
    status.textContent = isError ? "" : message;
    if (error) { error.textContent = isError ? message : ""; error.hidden = !isError; }
  }

  async function send(file) {
    if (!file) { say("Bạn chọn ảnh hoặc tệp PDF để gửi nhé.", true); return; }
    if (file.size > MAX_BYTES) { say("Tệp lớn quá (tối đa 10 MB).", true); return; }
    if (file.type && !TYPES.includes(file.type)) { say("Chỉ gửi được ảnh (JPG, PNG, WEBP, GIF) hoặc tệp PDF.", true); return; }
    const body = new FormData();
    body.append("file", file, file.name || "anh-dan.png");
    say("Đang gửi…", false);
    try {
      const response = await fetch(url, {
        method: "POST", body, credentials: "same-origin",
        headers: { "X-CSRF-Token": document.body.dataset.csrf },
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(data.error || "Chưa gửi được tệp, bạn thử lại nhé.");
      input.value = "";
      say("Đã gửi.", false);
    } catch (failure) {
      say(failure.message, true);
    }
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); send(input.files[0]); });
  // a picture dragged onto the conversation, or pasted (a screenshot) into the reply box, is sent at once
  conversation.addEventListener("dragover", (event) => { event.preventDefault(); });
  conversation.addEventListener("drop", (event) => {
    if (!event.dataTransfer || event.dataTransfer.files.length === 0) return;
    event.preventDefault();
    send(event.dataTransfer.files[0]);
  });
  const reply = document.getElementById("reply-text");
  if (reply) reply.addEventListener("paste", (event) => {
    const item = Array.from(event.clipboardData ? event.clipboardData.items : []).find((i) => i.kind === "file");
    if (!item) return;
    event.preventDefault();
    send(item.getAsFile());
  });
})();
