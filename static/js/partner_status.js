// While a sync runs, poll the partner's status and move its progress bar; reload when it ends
// so the health facts and recent runs show the outcome.
(function () {
  "use strict";
  const box = document.getElementById("sync-health");
  if (!box || box.dataset.running !== "1") return;
  const block = box.querySelector(".progress-block");
  const bar = block.querySelector("progress");
  const text = block.querySelector(".progress-text");

  async function poll() {
    try {
      const response = await fetch(box.dataset.statusUrl, { credentials: "same-origin" });
      if (!response.ok) return;
      const status = await response.json();
      if (!status.running) {
        window.location.reload();
        return;
      }
      bar.value = status.percent;
      text.textContent = `window ${status.windows_done} of ${status.windows_total} · ${status.pages} pages · ${status.sessions} sessions`;
    } catch (error) {
      // A missed poll is harmless; the next one tries again.
    }
    window.setTimeout(poll, 2000);
  }
  window.setTimeout(poll, 2000);
})();
