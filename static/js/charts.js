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

  // A drag across a time chart (a zoom on its time axis) sets this page's date filter: the
  // local days the dragged range touches. A double click (autorange) changes nothing.
  function dragUrl(change) {
    const from = change["xaxis.range[0]"];
    const to = change["xaxis.range[1]"];
    if (typeof from !== "string" || typeof to !== "string") return null;
    const url = new URL(window.location.href);
    url.searchParams.set("preset", "custom");
    url.searchParams.set("start", from.slice(0, 10));
    url.searchParams.set("end", to.slice(0, 10));
    url.searchParams.delete("page");
    return url.toString();
  }

  async function request(src) {
    const response = await fetch(src, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.json();
  }

  async function draw(div, figureRequest) {
    say(div, "loading", "Loading…");
    div.classList.add("is-loading");
    let figure;
    try {
      figure = await figureRequest;
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
    if (figure.layout.meta && figure.layout.meta.date_drag) {
      div.on("plotly_relayout", function (change) {
        const url = dragUrl(change);
        if (url) window.location.assign(url);
      });
    }
    div.dataset.state = "drawn";
  }

  // Each figure is asked for as soon as this script runs: it runs before plotly.js (3.5 MB,
  // deferred after it in the page), so the server works on the figures while the browser
  // parses the library, instead of after it. A failed request is reported when drawn.
  const requests = new Map();
  document.querySelectorAll(".chart[data-src]").forEach(function (div) {
    const figureRequest = request(div.dataset.src);
    figureRequest.catch(function () {}); // handled in draw(); not an unhandled rejection
    requests.set(div, figureRequest);
  });

  function start() {
    if (!window.Plotly) {
      document.querySelectorAll(".chart[data-src]").forEach(function (div) {
        say(div, "error", "The chart library did not load.");
      });
      return;
    }
    document.querySelectorAll(".chart[data-src]").forEach(function (div) {
      draw(div, requests.get(div) || request(div.dataset.src));
    });
  }

  // plotly.js runs after this script, and DOMContentLoaded waits for it (deferred scripts run
  // first); "load" comes later still, in case this script was added after that event.
  let started = false;
  function startOnce() {
    if (!started) {
      started = true;
      start();
    }
  }
  if (document.readyState === "complete") {
    startOnce();
  } else {
    document.addEventListener("DOMContentLoaded", startOnce);
    window.addEventListener("load", startOnce);
  }
})();
