// Pictures and files in a transcript: a line's marker "[ảnh #<id>]" or "[tệp <name> #<id>]" (as the Rasa
// server writes a customer's file into the conversation, connectors/inbound_files.py) becomes the picture,
// opening full size in a new tab, or a download link. Lines added live are handled as they arrive.
// The id is only ever put in a same-origin URL; /attachments/<id> decides who may see the file.
(function () {
  "use strict";
  const MARKER = /\[(ảnh|tệp)(?: ([^[\]#]*))? #([0-9a-f]{32})\]/g;

  function link(kind, name, id) {
    const anchor = document.createElement("a");
    anchor.href = `/attachments/${id}`;
    anchor.target = "_blank";
    anchor.rel = "noopener";
    if (kind === "ảnh") {
      anchor.className = "attachment-image";
      const image = document.createElement("img");
      image.src = anchor.href;
      image.alt = "Ảnh khách gửi";
      image.loading = "lazy";
      anchor.append(image);
    } else {
      anchor.className = "attachment-file";
      anchor.textContent = `📎 ${name || "Tải tệp"}`;
    }
    return anchor;
  }

  function show(item) {
    const span = item.querySelector && item.querySelector(".text");
    if (!span || span.dataset.attachments) return;
    const text = span.textContent;
    const found = Array.from(text.matchAll(MARKER));
    if (found.length === 0) return;
    span.dataset.attachments = "shown";
    const parts = [];
    let last = 0;
    for (const match of found) {
      if (match.index > last) parts.push(document.createTextNode(text.slice(last, match.index)));
      parts.push(link(match[1], match[2], match[3]));
      last = match.index + match[0].length;
    }
    if (last < text.length) parts.push(document.createTextNode(text.slice(last)));
    span.replaceChildren(...parts);
  }

  const list = document.getElementById("messages");
  if (!list) return;
  for (const item of list.children) show(item);
  new MutationObserver((changes) => {
    for (const change of changes) for (const node of change.addedNodes) show(node);
  }).observe(list, { childList: true });
})();
