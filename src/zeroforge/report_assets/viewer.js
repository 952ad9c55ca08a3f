// zeroforge report.html: the episode viewer (vanilla JS, no libraries). Data: the JSON blob #episode-data
// (zeroforge.report_episodes.views_json). Step t of an episode of n moves is the position before move t;
// step n is the final position. URL hash: #episode=K&step=T opens episode K at step T; &play=N then presses
// the Next button N times (real clicks).
(function () {
  "use strict";
  var blob = document.getElementById("episode-data");
  if (!blob) { return; }
  var data = JSON.parse(blob.textContent);
  var episodes = data.episodes;
  var select = document.getElementById("episode-select");
  var counter = document.getElementById("step-counter");
  var stateText = document.getElementById("state-text");
  var info = document.getElementById("step-info");
  var movesTable = document.getElementById("moves-table");
  var movesBody = movesTable.querySelector("tbody");
  var buttons = {
    first: document.getElementById("btn-first"), prev: document.getElementById("btn-prev"),
    next: document.getElementById("btn-next"), last: document.getElementById("btn-last")
  };
  var current = { episode: 0, step: 0 };

  function clamp(x, lo, hi) { return Math.max(lo, Math.min(hi, x)); }
  function num(x, digits) { return (x === null || x === undefined) ? "\u2013" : Number(x).toFixed(digits); }
  function signed(x) { return (x > 0 ? "+" : "") + num(x, 3); }
  function mover(p) { return data.num_players > 1 ? "player " + p : "the solver (single-agent)"; }

  function row(label, value, cls) {
    var tr = document.createElement("tr");
    var th = document.createElement("th");
    var td = document.createElement("td");
    th.textContent = label;
    td.textContent = value;
    if (cls) { td.className = cls; }
    tr.appendChild(th);
    tr.appendChild(td);
    info.appendChild(tr);
  }

  function outcomeText(ep) {
    var text = ep.outcome;
    if (ep.winner === null) {
      text = "draw";
    } else if (ep.winner >= 0) {
      text = "player " + ep.winner + " wins";
    }
    return text + " (returns " + ep.returns.map(function (r) { return signed(r); }).join(", ") + ")";
  }

  function render() {
    var ep = episodes[current.episode];
    var t = current.step;
    var n = ep.length;
    select.value = String(current.episode);
    counter.textContent = "step " + t + " / " + n;
    buttons.first.disabled = buttons.prev.disabled = (t === 0);
    buttons.last.disabled = buttons.next.disabled = (t === n);
    info.textContent = "";
    movesBody.textContent = "";
    if (t === n) {
      stateText.textContent = ep.final_text;
      row("position", "final, after " + n + " moves");
      row("outcome", outcomeText(ep), "outcome");
      movesTable.hidden = true;
    } else {
      var s = ep.steps[t];
      stateText.textContent = s.text;
      row("position", t === 0 ? "initial" : "after " + t + (t === 1 ? " move" : " moves"));
      row("to move", mover(s.player));
      row("chosen action", s.action);
      row("root value", signed(s.value) + " (the mover's view)");
      row("search visits", String(s.visits));
      var top = 1;
      s.moves.forEach(function (m) { top = Math.max(top, m[1]); });
      s.moves.forEach(function (m) {
        var tr = document.createElement("tr");
        if (m[4] === s.action_id) { tr.className = "chosen"; }
        var cells = [m[0], null, num(m[2], 3), num(m[3], 3)];
        cells.forEach(function (value, k) {
          var td = document.createElement("td");
          if (k === 1) {
            var bar = document.createElement("span");
            bar.className = "bar";
            bar.style.width = (3 * m[1] / top).toFixed(2) + "em";
            td.appendChild(bar);
            td.appendChild(document.createTextNode(String(m[1])));
          } else {
            td.textContent = value;
          }
          tr.appendChild(td);
        });
        movesBody.appendChild(tr);
      });
      movesTable.hidden = false;
    }
    try {
      history.replaceState(null, "", "#episode=" + current.episode + "&step=" + t);
    } catch (e) { /* some file:// contexts refuse it; the hash is only a convenience */ }
  }

  function go(episode, step) {
    current.episode = clamp(episode | 0, 0, episodes.length - 1);
    current.step = clamp(step | 0, 0, episodes[current.episode].length);
    render();
  }

  function parseHash() {
    var out = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i > 0) { out[decodeURIComponent(kv.slice(0, i))] = parseInt(decodeURIComponent(kv.slice(i + 1)), 10); }
    });
    return out;
  }

  function step(delta) { go(current.episode, current.step + delta); }

  buttons.first.addEventListener("click", function () { go(current.episode, 0); });
  buttons.prev.addEventListener("click", function () { step(-1); });
  buttons.next.addEventListener("click", function () { step(1); });
  buttons.last.addEventListener("click", function () { go(current.episode, episodes[current.episode].length); });
  select.addEventListener("change", function () { go(parseInt(select.value, 10), 0); });
  document.addEventListener("keydown", function (ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) { return; }
    if (ev.key === "ArrowLeft") { ev.preventDefault(); step(-1); }
    if (ev.key === "ArrowRight") { ev.preventDefault(); step(1); }
  });
  window.addEventListener("hashchange", function () {
    var h = parseHash();
    go(h.episode || 0, h.step || 0);
  });

  var start = parseHash();
  go(start.episode || 0, start.step || 0);
  for (var k = 0; k < (start.play || 0); k++) { buttons.next.click(); }
})();
