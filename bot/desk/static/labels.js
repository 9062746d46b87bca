// Labels of the open conversation: add with the form, remove with ×. Labels are text (textContent only).
"use strict";

(() => {
  const card = document.getElementById("labels-card");
  if (!card) return;
  const base = `/handoffs/${card.dataset.handoff}/labels`;
  const list = document.getElementById("labels");
  const form = document.getElementById("label-form");
  const input = document.getElementById("label-text");
  const error = document.getElementById("label-error");

  function showError(message) {
    error.textContent = message || "";
    error.hidden = !message;
  }

  function show(labels) {
    list.replaceChildren();
    for (const label of labels) {
      const item = document.createElement("li");
      item.className = "label";
      item.dataset.label = label;
      const name = document.createElement("span");
      name.textContent = label;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "remove";
      remove.textContent = "×";
      remove.title = "Bỏ nhãn";
      remove.setAttribute("aria-label", `Bỏ nhãn ${label}`);
      item.append(name, remove);
      list.append(item);
    }
  }

  async function change(url, label) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": document.body.dataset.csrf },
      body: JSON.stringify({ label }),
      credentials: "same-origin",
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || "Có lỗi, bạn thử lại nhé.");
    show(data.labels);
    showError("");
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await change(base, input.value);
      input.value = "";
    } catch (problem) {
      showError(problem.message);
    }
  });
  list.addEventListener("click", async (event) => {
    const button = event.target.closest("button.remove");
    if (!button) return;
    try {
      await change(`${base}/remove`, button.closest("li").dataset.label);
    } catch (problem) {
      showError(problem.message);
    }
  });
})();
