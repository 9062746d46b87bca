// Passing a conversation on (bot/desk/transfer.py): the form on the conversation page, and leaving a page
// whose conversation someone else just passed on. Uses post() and showError() from console.js.
"use strict";

(() => {
  const form = document.getElementById("transfer-form");
  let leaving = false;  // this page's own transfer: its answer says where to go
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      leaving = true;
      try {
        const result = await post(`/handoffs/${form.dataset.handoff}/transfer`, {
          target: form.querySelector("select").value,
          note: form.querySelector("textarea").value,
        });
        window.location = result.next;
      } catch (error) {
        leaving = false;
        showError(error.message);
      }
    });
  }
  // the stream console.js opened: someone else passed this conversation on. Its owner until now goes back
  // to the queue; anyone else watching sees the page as it is now.
  if (typeof stream !== "undefined" && handoffId) {
    stream.addEventListener("transferred", () => {
      if (leaving) return;
      if (conversation.dataset.mine === "yes") window.location = "/?notice=transferred";
      else window.location.reload();
    });
  }
})();
