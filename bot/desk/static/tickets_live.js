// The tickets page follows the desk's ticket news (bot/desk/ticket_news.py) on the console's live stream:
// a ticket filed, assigned, commented, set pending, resolved or moved makes the page fetch its own list again,
// with the filters in its address, and swap the table's rows. Rows that arrived since the page was opened
// stay highlighted as new, rows whose status changed as changed. The rows are the server's own rendering.
"use strict";

(() => {
  const table = document.getElementById("tickets");
  if (!table) return;
  let pending = null;

  // code -> {status, marks} of the rows shown now
  function shown() {
    const rows = new Map();
    for (const row of table.tBodies[0].querySelectorAll("tr[data-code]")) {
      const marks = ["ticket-new", "ticket-changed"].filter((mark) => row.classList.contains(mark));
      rows.set(row.dataset.code, { status: row.querySelector(".status").textContent, marks });
    }
    return rows;
  }

  async function refresh() {
    const response = await fetch(`/tickets${window.location.search}`, { credentials: "same-origin" });
    if (response.redirected && new URL(response.url).pathname === "/login") { window.location = "/login"; return; }
    if (!response.ok) return;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const rows = page.querySelector("#tickets tbody");
    const count = page.getElementById("tickets-count");
    if (!rows) return;
    const before = shown();
    for (const row of rows.querySelectorAll("tr[data-code]")) {
      const was = before.get(row.dataset.code);
      if (!was) row.classList.add("ticket-new");
      else {
        row.classList.add(...was.marks);
        if (was.status !== row.querySelector(".status").textContent) row.classList.add("ticket-changed");
      }
    }
    table.tBodies[0].replaceWith(document.adoptNode(rows));
    if (count) document.getElementById("tickets-count").textContent = count.textContent;
  }

  // news often comes in bursts (a resolution is a change and a comment): one fetch for the burst
  function soon() {
    clearTimeout(pending);
    pending = setTimeout(() => { refresh().catch(() => {}); }, 250);
  }

  const news = new EventSource("/stream?tickets=1");
  news.addEventListener("ticket", soon);
  // (re)connected, perhaps to another desk instance: whatever changed meanwhile is fetched
  news.addEventListener("open", soon);
  news.addEventListener("ended", () => { news.close(); window.location = "/login"; });
})();
