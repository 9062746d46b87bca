// Passing a conversation on (bot/desk/transfer.py): the form on the conversation page, and leaving a page
// whose conversation someone else just passed on. Uses post() and showError() from console.js.
"use strict";

(() => {
  const form = document.getElementById("transfer-form");
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      document.body.dataset.leaving = "yes";  // this page's own transfer: its answer says where to go
      try {
        const result = await post(`/handoffs/${form.dataset.handoff}/transfer`, {
          target: form.querySelector("select").value,
          note: form.querySelector("textarea").value,
          owner: form.dataset.owner,  // who had it when this page was shown: a page out of date is refused
        });
        window.location = result.next;
      } catch (error) {
        delete document.body.dataset.leaving;
        showError(error.message);
      }
    });
  }
  // the stream console.js opened: someone else passed this conversation on. Its owner until now goes back
  // to the queue; anyone else watching sees the page as it is now.
  if (typeof stream !== "undefined" && handoffId) {
    stream.addEventListener("transferred", () => {
      if (document.body.dataset.leaving === "yes") return;
      if (conversation.dataset.mine === "yes") window.location = "/?notice=transferred";
      else window.location.reload();
    });
  }
})();
