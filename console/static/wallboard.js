// The wallboard: the floor pushed by /wallboard/events (console/app.py), drawn as table rows.
(function () {
  "use strict";
  var words = JSON.parse(document.getElementById("wallboard-words").textContent);
  var body = document.querySelector("#wallboard tbody");
  var status = document.getElementById("floor-status");
  var totals = document.getElementById("floor-totals");

  function cell(row, name, text) {
    var td = document.createElement("td");
    if (name) td.className = name;
    td.textContent = text;
    row.appendChild(td);
  }

  function seconds(waiting, wait) { return waiting ? wait + " " + words.s : "-"; }
  function level(value) { return value === null ? "-" : value + "%"; }

  function drawTotals(t) {
    var shown = {waiting: t.waiting, longest: seconds(t.waiting, t.longest_wait_s),
                 answered: t.answered_today, abandoned: t.abandoned_today,
                 level: level(t.service_level_today)};
    Object.keys(shown).forEach(function (name) {
      totals.querySelector("." + name).textContent = shown[name];
    });
  }

  function draw(floor) {
    status.hidden = floor.asterisk;
    drawTotals(floor.totals);
    body.replaceChildren();
    if (!floor.queues.length) {
      var empty = document.createElement("tr");
      empty.className = "none";
      cell(empty, "", words.none);
      empty.firstChild.colSpan = 11;
      body.appendChild(empty);
    }
    floor.queues.forEach(function (q) {
      var row = document.createElement("tr");
      row.dataset.queue = q.queue;
      if (q.idle) row.className = "idle";
      cell(row, "", q.queue);
      cell(row, "waiting", q.waiting);
      cell(row, "longest", seconds(q.waiting, q.longest_wait_s));
      cell(row, "ready", q.ready);
      cell(row, "on-call", q.on_call);
      cell(row, "ringing", q.ringing);
      cell(row, "paused", q.paused);
      cell(row, "answered", q.answered_today);
      cell(row, "abandoned", q.abandoned_today);
      cell(row, "level", level(q.service_level_today));
      cell(row, "callers", q.callers.map(function (c) {
        return c.position + ". " + c.caller_masked + " (" + c.wait_s + " " + words.s + ")";
      }).join(" "));
      body.appendChild(row);
    });
    body.dataset.updated = String(Date.now());
  }

  var events = new EventSource("/wallboard/events");
  events.onmessage = function (event) { draw(JSON.parse(event.data)); };
  events.addEventListener("signed-out", function () { events.close(); location.href = "/login"; });
})();
