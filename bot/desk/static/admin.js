// Retraining from the FAQ page: start it, then show stage and percent until it ends.
"use strict";

const csrfToken = document.body.dataset.csrf;
const section = document.getElementById("retrain");

function show(state) {
  const box = document.getElementById("retrain-progress");
  if (state.running && state.progress) {
    box.hidden = false;
    document.getElementById("retrain-bar").value = state.progress.percent;
    document.getElementById("retrain-label").textContent = `${state.progress.label} — ${state.progress.percent}%`;
  }
  const outcome = document.getElementById("retrain-outcome");
  const worse = document.getElementById("retrain-worse");
  if (!state.running && state.outcome) {
    box.hidden = true;
    outcome.textContent = state.outcome.message;
    outcome.className = state.outcome.status === "deployed" ? "notice" : "error";
    worse.replaceChildren();
    for (const item of (state.outcome.worse || []).slice(0, 30)) {
      const entry = document.createElement("li");
      entry.textContent = `“${item.text}”: cần ${item.expected}, mô hình mới ra ${item.got}`;
      worse.append(entry);
    }
  }
}

async function poll() {
  const reply = await fetch("/admin/retrain.json", { credentials: "same-origin" });
  if (!reply.ok) return;
  const state = await reply.json();
  show(state);
  if (state.running) setTimeout(poll, 1000);
  else document.getElementById("retrain-start").disabled = state.outcome && state.outcome.status === "deployed";
}

if (section) {
  document.getElementById("retrain-start").addEventListener("click", async (event) => {
    event.target.disabled = true;
    await fetch("/admin/retrain", { method: "POST", headers: { "X-CSRF-Token": csrfToken }, credentials: "same-origin" });
    poll();
  });
  if (section.dataset.running === "yes") poll();
}
