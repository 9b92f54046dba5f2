// Keeps the partner page's sync health current: while a sync runs, its progress bar moves
// every two seconds; when a sync starts or ends, or a connection test is answered, the page
// reloads to show the outcome.
(function () {
  "use strict";
  const box = document.getElementById("sync-health");
  if (!box) return;
  const block = box.querySelector(".progress-block");
  const bar = block.querySelector("progress");
  const text = block.querySelector(".progress-text");

  function plural(n, word) {
    return `${n.toLocaleString()} ${word}${n === 1 ? "" : "s"}`;
  }

  async function poll() {
    let running = box.dataset.running === "1";
    try {
      const response = await fetch(box.dataset.statusUrl, { credentials: "same-origin" });
      if (response.ok) {
        const status = await response.json();
        if (status.latest !== box.dataset.latest ||
            status.connection_test !== box.dataset.connectionTest) {
          window.location.reload();
          return;
        }
        running = status.running;
        block.hidden = !running;
        bar.value = status.percent;
        text.textContent = `window ${status.windows_done} of ${status.windows_total} · ${plural(status.pages, "page")} · ${plural(status.sessions, "session")}` +
          (status.finishing ? " · finishing: checking completeness" : "");
      }
    } catch (error) {
      // A missed poll is harmless; the next one tries again.
    }
    window.setTimeout(poll, running ? 2000 : 5000);
  }
  window.setTimeout(poll, 2000);
})();
