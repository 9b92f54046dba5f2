// Draws every chart on the page: each <div class="chart" data-src="…"> fetches its figure
// (plotly.py's JSON plus "empty" and "message") and draws it with plotly.js. Map shapes come
// from our own static folder (data-topojson). A point whose customdata is a URL, or an array
// starting with one, opens that URL when clicked: the session list narrowed to that mark.
(function () {
  "use strict";

  const CONFIG = {
    responsive: true,
    displaylogo: false,
    modeBarButtonsToRemove: ["lasso2d", "select2d", "autoScale2d", "toggleSpikelines"],
  };

  function say(div, state, text) {
    div.dataset.state = state;
    div.classList.remove("is-loading");
    div.replaceChildren();
    const message = document.createElement("p");
    message.className = "chart-message";
    message.textContent = text;
    div.appendChild(message);
  }

  function drillUrl(point) {
    const data = point && point.customdata;
    const url = Array.isArray(data) ? data[0] : data;
    // A path on this site only: "//host/…" would leave it.
    return typeof url === "string" && url.startsWith("/") && !url.startsWith("//") ? url : null;
  }

  async function draw(div) {
    say(div, "loading", "Loading…");
    div.classList.add("is-loading");
    let figure;
    try {
      const response = await fetch(div.dataset.src, { credentials: "same-origin" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      figure = await response.json();
    } catch (error) {
      say(div, "error", "This chart could not be loaded.");
      return;
    }
    if (figure.empty) {
      say(div, "empty", figure.message || "Nothing to show.");
      return;
    }
    div.classList.remove("is-loading");
    div.replaceChildren();
    const config = Object.assign({}, CONFIG, { topojsonURL: div.dataset.topojson });
    try {
      await window.Plotly.newPlot(div, figure.data, figure.layout, config);
    } catch (error) {
      // A figure plotly.js rejects, or map shapes that did not load.
      window.Plotly.purge(div);
      say(div, "error", "This chart could not be loaded.");
      return;
    }
    div.on("plotly_click", function (event) {
      const url = drillUrl(event.points && event.points[0]);
      if (url) window.location.assign(url);
    });
    div.dataset.state = "drawn";
  }

  function start() {
    if (!window.Plotly) {
      document.querySelectorAll(".chart[data-src]").forEach(function (div) {
        say(div, "error", "The chart library did not load.");
      });
      return;
    }
    document.querySelectorAll(".chart[data-src]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
