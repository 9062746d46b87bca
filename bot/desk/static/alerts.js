// Alerts at the console: a short beep, a desktop notification and an unread count in the tab's title when
// a new customer waits or a customer writes in one of this agent's conversations. Both arrive on the
// console's live stream (console.js `stream`); the desk sends new waiting customers only to agents who may
// take one now (online, below their capacity) and nothing while the agent is away. The count clears when
// the agent looks at the tab again. Notifications name the channel and the reason, never what the customer
// wrote: they show on a locked screen.
"use strict";

(() => {
  if (typeof stream === "undefined") return;
  const baseTitle = document.title;
  const status = document.getElementById("agent-status-select");
  const enable = document.getElementById("enable-notifications");
  const shownHandoff = (document.getElementById("conversation") || { dataset: {} }).dataset.handoff;
  let unread = 0;
  let audio = null;

  const away = () => status !== null && status.value === "away";
  const looking = () => document.visibilityState === "visible" && document.hasFocus();

  function showCount() {
    document.title = unread > 0 ? `(${unread}) ${baseTitle}` : baseTitle;
  }

  function seen() {
    if (unread > 0 && looking()) {
      unread = 0;
      showCount();
    }
  }

  // A 0.3 s tone made on the spot (Web Audio): no sound file to fetch. Browsers allow it once the agent
  // has clicked anywhere on the page; before that it is silent and the title and notification still tell.
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      const tone = audio.createOscillator();
      const volume = audio.createGain();
      const now = audio.currentTime;
      tone.type = "sine";
      tone.frequency.setValueAtTime(880, now);
      volume.gain.setValueAtTime(0.0001, now);
      volume.gain.exponentialRampToValueAtTime(0.2, now + 0.02);
      volume.gain.exponentialRampToValueAtTime(0.0001, now + 0.3);
      tone.connect(volume).connect(audio.destination);
      tone.start(now);
      tone.stop(now + 0.32);
    } catch (error) {
      audio = null;
    }
  }

  function notify(title, body, url, tag) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const note = new Notification(title, { body, tag, lang: "vi" });
    note.onclick = () => {
      window.focus();
      if (url && window.location.pathname !== url) window.location.assign(url);
      note.close();
    };
  }

  function alertAgent(title, body, url, tag) {
    if (away()) return;
    beep();
    if (looking()) return;  // the page shows it already
    unread += 1;
    showCount();
    notify(title, body, url, tag);
  }

  stream.addEventListener("waiting", (event) => {
    const waiting = JSON.parse(event.data);
    alertAgent("Khách mới đang chờ", `${waiting.reason} · kênh ${waiting.channel}`,
               `/handoffs/${waiting.handoff_id}`, `waiting-${waiting.handoff_id}`);
  });
  stream.addEventListener("customer_message", (event) => {
    const message = JSON.parse(event.data);
    const here = String(message.handoff_id) === shownHandoff;
    alertAgent("Khách vừa nhắn", here ? "Trong cuộc trò chuyện bạn đang mở" : `Cuộc trò chuyện #${message.handoff_id}`,
               `/handoffs/${message.handoff_id}`, `message-${message.handoff_id}`);
  });

  window.addEventListener("focus", seen);
  document.addEventListener("visibilitychange", seen);

  // Permission is asked only when the agent clicks the button, never on page load.
  function showEnable() {
    if (enable) enable.hidden = !("Notification" in window) || Notification.permission !== "default";
  }
  if (enable) {
    enable.addEventListener("click", async () => {
      beep();  // this click also lets the page play the alert's sound
      await Notification.requestPermission();
      showEnable();
    });
  }
  showEnable();
})();
