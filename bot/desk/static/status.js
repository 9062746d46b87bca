// The agent's own status in the header (saved at once, with the page's CSRF token) and, on the queue page,
// colleagues' statuses, kept current by the console's live stream (console.js `stream`) where the page has one.
"use strict";

(() => {
  const token = document.body.dataset.csrf;
  const form = document.getElementById("agent-status");
  const select = document.getElementById("agent-status-select");
  const team = document.getElementById("team");
  if (!form || !select) return;

  select.addEventListener("change", async () => {
    const before = select.dataset.status;
    const reply = await fetch("/me/status", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify({ status: select.value }),
      credentials: "same-origin",
    }).catch(() => null);
    if (reply && reply.ok) {
      select.dataset.status = select.value;
    } else {
      select.value = before;  // not saved: show what the desk still has
      window.alert("Chưa đổi được trạng thái, bạn thử lại nhé.");
    }
  });

  async function refreshTeam() {
    if (!team) return;
    const reply = await fetch("/agents.json", { credentials: "same-origin" });
    if (!reply.ok) return;
    const agents = await reply.json();
    const entries = [];
    for (const agent of agents) {
      const entry = document.createElement("li");
      entry.dataset.username = agent.username;
      entry.className = `status-${agent.connected ? agent.status : "offline"}`;
      const name = document.createElement("span");
      name.textContent = agent.display_name;
      const label = document.createElement("span");
      label.className = "status-label";
      label.textContent = agent.label;
      entry.append(name, " · ", label);
      entries.push(entry);
    }
    team.replaceChildren(...entries);  // at once: two refreshes in flight must not both append
  }

  if (typeof stream !== "undefined") {
    stream.addEventListener("agents", (event) => {
      const change = JSON.parse(event.data);
      if (change.username === select.dataset.username) {  // this agent, changed in another tab
        select.value = select.dataset.status = change.status;
      }
      refreshTeam();
    });
    stream.addEventListener("open", refreshTeam);
  }
  refreshTeam();
})();
