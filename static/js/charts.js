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

  // A drag across a time chart (a zoom on its time axis) sets this page's date filter to the
  // buckets it covers: a bar is drawn centred on its bucket's start, so the range is moved by
  // half a bucket before its days are read. A double click (autorange) changes nothing.
  const DAY_MS = 86400000;

  // The first day of the bucket whose bar is drawn under x ("YYYY-MM-DD HH:MM:SS.sss", read
  // as a plain calendar time): the bar spans half a bucket either side of its start, and a
  // week's bucket starts on a Monday.
  function bucketUnder(text, bucketDays) {
    const [day, time = "00:00:00"] = text.split(" ");
    const at = new Date(`${day}T${time.slice(0, 8)}Z`).getTime() + (bucketDays / 2) * DAY_MS;
    const date = new Date(at);
    const back = bucketDays === 7 ? (date.getUTCDay() + 6) % 7 : 0;
    return new Date(at - back * DAY_MS);
  }

  function dragUrl(change, bucketDays) {
    const from = change["xaxis.range[0]"];
    const to = change["xaxis.range[1]"];
    if (typeof from !== "string" || typeof to !== "string") return null;
    const first = bucketUnder(from, bucketDays);
    const last = new Date(bucketUnder(to, bucketDays).getTime() + (bucketDays - 1) * DAY_MS);
    if (last < first) return null;
    const url = new URL(window.location.href);
    url.searchParams.set("preset", "custom");
    url.searchParams.set("start", first.toISOString().slice(0, 10));
    url.searchParams.set("end", last.toISOString().slice(0, 10));
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
    // Not on a touch screen, where a swipe across a chart is a scroll of the page.
    const touch = window.matchMedia("(pointer: coarse)").matches;
    if (figure.layout.meta && figure.layout.meta.date_drag && !touch) {
      const bucketDays = figure.layout.meta.bucket_days || 1;
      div.on("plotly_relayout", function (change) {
        const url = dragUrl(change, bucketDays);
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
