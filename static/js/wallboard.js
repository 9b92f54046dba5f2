// The wallboard fills and refreshes itself from its data URL every 30 seconds. Every value is
// set with textContent: names from outside are text, never markup.
(function () {
  "use strict";
  var REFRESH_MS = 30000;

  function percent(value) {
    return value === null ? "—" : value + "%";
  }

  function field(board, name) {
    return board.querySelector('[data-field="' + name + '"]');
  }

  function show(board, data) {
    var text = {
      updated: data.updated,
      time_zone: data.time_zone,
      active: data.active === null ? "?" : String(data.active),
      waiting: data.waiting === null ? "?" : String(data.waiting),
      today: String(data.today),
      same_day_last_week: String(data.same_day_last_week),
      connected_rate: percent(data.connected_rate),
      connected_of: "of " + data.ended.toLocaleString() + " ended",
      service_level: percent(data.service_level),
      service_of: (data.service_known ? "of " + data.service_counted.toLocaleString()
        : "too few known waits") +
        (data.service_target ? " · target " + data.service_target : " · each partner's target"),
      abandoned_rate: percent(data.abandoned_rate),
      abandoned_of: "of " + data.offered.toLocaleString() + " answered or abandoned",
      live_note: data.live_note,
    };
    Object.keys(text).forEach(function (name) {
      field(board, name).textContent = text[name];
    });
    var change = field(board, "change");
    var before = data.same_day_last_week;
    change.textContent = before ? "(" + (data.today >= before ? "+" : "") +
      Math.round((100 * (data.today - before)) / before) + "%)" : "";
    // No change is not good news: only a real rise is green.
    change.className = data.today > before ? "up" : data.today < before ? "down" : "";
    field(board, "service_tile").className = "tile " + (data.service_state || "");
    var list = field(board, "top_agents");
    list.replaceChildren();
    data.top_agents.forEach(function (row) {
      var item = document.createElement("li");
      var name = document.createElement("span");
      name.textContent = row.agent;
      var count = document.createElement("b");
      count.textContent = row.sessions;
      item.append(name, count);
      list.append(item);
    });
    if (!data.top_agents.length) {
      var none = document.createElement("li");
      none.textContent = "No sessions yet today.";
      list.append(none);
    }
  }

  function refresh(board) {
    fetch(board.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        show(board, data);
        field(board, "error").hidden = true;
        board.dataset.state = "live";
      })
      .catch(function () {
        field(board, "error").hidden = false;
        board.dataset.state = "stale";
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var board = document.getElementById("board");
    refresh(board);
    setInterval(function () { refresh(board); }, REFRESH_MS);
  });
})();
