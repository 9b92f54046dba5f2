// While a large export is built in the background, move its progress bar; reload when it is done.
(function () {
  "use strict";
  const box = document.getElementById("export-job");
  if (!box || box.dataset.state === "done" || box.dataset.state === "failed") return;
  const bar = box.querySelector("progress");
  const text = box.querySelector(".progress-text");

  async function poll() {
    try {
      const response = await fetch(box.dataset.statusUrl, { credentials: "same-origin" });
      if (response.ok) {
        const job = await response.json();
        if (job.state === "done" || job.state === "failed") {
          window.location.reload();
          return;
        }
        bar.value = job.percent;
        text.textContent = `${job.rows_done.toLocaleString()} of ${job.rows_total.toLocaleString()} rows written. This page updates itself.`;
      }
    } catch (error) {
      // The next poll tries again.
    }
    window.setTimeout(poll, 1500);
  }
  window.setTimeout(poll, 1500);
})();
