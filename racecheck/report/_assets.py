"""The CSS and JavaScript inlined into every HTML report (no network, no external files)."""

CSS = r"""
:root { --sql:#2563eb; --redis:#be123c; --effect:#15803d; --fault:#ea580c; --crash:#111827;
  --error:#dc2626; --hang:#7c3aed; --log:#6b7280; --minor:#9ca3af; --bad:#dc2626; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:#111827;
  margin: 0; padding: 16px 20px 40px; background:#f9fafb; }
h1 { font-size: 20px; margin: 0 0 6px; }
h2 { font-size: 16px; margin: 22px 0 8px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600;
  vertical-align: middle; margin-left: 6px; }
.badge.fail { background:#fee2e2; color:#991b1b; } .badge.pass { background:#dcfce7; color:#166534; }
.badge.maybe { background:#fef3c7; color:#92400e; }
.badge.emulated { background:#ede9fe; color:#5b21b6; }
#emulated { border-left:4px solid #7c3aed; }
.verdict-pass { border-left:6px solid #16a34a; } .verdict-violation { border-left:6px solid #dc2626; }
.verdict-inconclusive { border-left:6px solid #d97706; background:#fffbeb; }
.verdict-error { border-left:6px solid #7c3aed; background:#f5f3ff; }
#summary dl { display:flex; flex-wrap:wrap; gap:4px 18px; margin:6px 0 0; }
#summary dt { color:#6b7280; } #summary dt::after { content:":"; }
#summary dd { margin:0 0 0 4px; font-weight:600; } #summary dl div { display:flex; }
.panel { background:#fff; border:1px solid #e5e7eb; border-radius:8px; padding:10px 14px; margin-top:12px; }
#violations ul { margin:4px 0; padding-left:20px; } #violations li { margin:3px 0; }
#violations .inv { font-weight:700; color:#991b1b; }
#violations .none { color:#166534; }
#replay code { background:#111827; color:#f9fafb; padding:3px 8px; border-radius:4px; user-select: all; }
#replay button, #controls button { font-size:12px; margin-left:6px; cursor:pointer; }
#controls { display:flex; flex-wrap:wrap; align-items:center; gap:6px 14px; margin:14px 0 6px; }
#detail { min-height: 1.4em; color:#374151; }
#legend { display:flex; flex-wrap:wrap; gap:6px 16px; align-items:center; font-size:12.5px; }
#legend .item { display:flex; align-items:center; gap:5px; }
#legend .swatch { display:inline-block; flex:none; }
#legend .box { width:16px; height:16px; border-radius:3px; color:#fff; text-align:center;
  font:700 10.5px/16px ui-monospace, monospace; margin-right:2px; }
#legend .bar { width:34px; height:13px; border-radius:3px; }
#legend .tick-mark { width:2px; height:16px; background:var(--minor); }
#timeline { position:relative; overflow-x:auto; background:#fff; border:1px solid #e5e7eb;
  border-radius:8px; margin-top:8px; }
#timeline-inner { position:relative; min-width:100%; }
#axis { position:relative; height:24px; border-bottom:1px solid #d1d5db; margin-left:var(--lw); overflow:hidden; }
.tick.flip { transform:translateX(-100%); border-left:none; border-right:1px solid #9ca3af; padding:0 3px 0 0; }
.tick { position:absolute; top:0; height:24px; border-left:1px solid #9ca3af; padding-left:3px;
  font-size:11px; color:#4b5563; white-space:nowrap; }
#grid { position:absolute; top:24px; bottom:0; left:var(--lw); right:0; pointer-events:none; }
.gridline { position:absolute; top:0; bottom:0; border-left:1px dashed #e5e7eb; }
.lane { display:flex; border-bottom:1px solid #e5e7eb; position:relative; }
.lane:nth-child(even) .lane-track { background: rgba(243,244,246,.55); }
.lane-label { position:sticky; left:0; z-index:5; width:var(--lw); flex:none; background:#f3f4f6;
  border-right:1px solid #d1d5db; padding:6px 8px; font-weight:700; font-family:ui-monospace, monospace; }
.lane-label small { display:block; font-weight:400; color:#6b7280; font-family:system-ui, sans-serif; }
.lane[data-worker="-1"] .lane-label { background:#fef3c7; }
.lane[data-worker="runner"] .lane-label { background:#e0e7ff; }
.lane-track { position:relative; flex:1; min-height:48px; }
.event { position:absolute; top:0; width:16px; height:16px; margin-left:-8px; border-radius:3px;
  color:#fff; font:700 10.5px/16px ui-monospace, monospace; text-align:center; cursor:default; z-index:3; }
.event.minor { width:2px; margin-left:-1px; background:var(--minor); border-radius:0; }
.event.start { background:#16a34a; } .event.end { background:#374151; }
.event.sql { background:var(--sql); } .event.redis { background:var(--redis); }
.event.effect { background:var(--effect); } .event.fault { background:var(--fault); }
.event.crash { background:var(--crash); border-radius:50%; } .event.error { background:var(--error); }
.event.hang { background:var(--hang); } .event.log { background:var(--log); }
.event.flagged { box-shadow:0 0 0 3px #fcd34d; }
.event.duplicate { box-shadow:0 0 0 2px #fff, 0 0 0 4px var(--bad); z-index:4; }
.event.maybe-duplicate { box-shadow:0 0 0 2px #fff, 0 0 0 4px #f59e0b; }
.event.hl, .section.hl { outline:2px solid #000; outline-offset:2px; z-index:6; }
.label { position:absolute; font-size:11px; line-height:14px; white-space:nowrap; color:#374151;
  padding-left:2px; border-left:1px solid #d1d5db; z-index:2; }
.label.wrap { white-space:normal; overflow-wrap:anywhere; }
.label.flip { border-left:none; border-right:1px solid #d1d5db; padding:0 2px 0 0; text-align:right; }
.label.minor { color:#9ca3af; font-size:10.5px; border-left-color:#eef0f3; }
.label.duplicate { color:var(--bad); font-weight:700; }
.label.duplicate.again::before { content:"DUPLICATE "; }
.label.duplicate.first { color:#7f1d1d; font-weight:600; }
.label.duplicate.first::before { content:"FIRST "; }
.label.crash, .label.error, .label.fault { font-weight:700; color:#9a3412; }
.section { position:absolute; height:15px; border-radius:3px; z-index:1; overflow:hidden;
  font-size:10.5px; line-height:13px; padding-left:3px; white-space:nowrap; color:#312e81; }
.section.critical { background:#ddd6fe; border:1px solid #7c3aed; }
.section.effect-span { background:#bbf7d0; border:1px solid var(--effect); color:#14532d; }
.section.open, .section.indeterminate { border-style:dashed; border-right:none;
  background-image:linear-gradient(90deg, transparent 70%, rgba(255,255,255,.9)); }
.section.failed { opacity:.5; }
.section.overlap { border:2px solid var(--bad); color:#7f1d1d;
  background-image:repeating-linear-gradient(45deg, #fecaca 0 5px, #fee2e2 5px 10px); }
.section.duplicate { border:2px solid var(--bad); }
#windows { position:absolute; top:24px; bottom:0; left:var(--lw); right:0; pointer-events:none; }
.overlap-window { position:absolute; top:0; bottom:0; background:rgba(220,38,38,.09);
  border-left:1px solid rgba(220,38,38,.5); border-right:1px solid rgba(220,38,38,.5); }
#events table { table-layout:fixed;  border-collapse:collapse; width:100%; background:#fff; }
#events th, #events td { text-align:left; padding:2px 8px; border-bottom:1px solid #f3f4f6; vertical-align:top; }
#events th { background:#f3f4f6; position:sticky; top:0; }
#events td.t { text-align:right; font-variant-numeric: tabular-nums; }
#events tr.flagged td { background:#fef9c3; }
#events tr.duplicate td { background:#fee2e2; }
#events tr.hl td { background:#dbeafe; }
#events .kind { font-weight:600; }
#events tr.minor { color:#6b7280; }
details { margin-top:12px; } summary { cursor:pointer; font-weight:600; }
pre { background:#fff; border:1px solid #e5e7eb; padding:8px; overflow:auto; }
footer { margin-top:24px; color:#6b7280; font-size:12px; }
"""

JS = r"""
(function () {
  "use strict";
  var LW = 96, PAD = 14, BAR_H = 18, MARK_H = 20, LABEL_H = 15, MAX_LABEL_ROWS = 6;
  var root = document.getElementById("timeline-inner");
  var span = parseFloat(root.getAttribute("data-span-ms")) || 1;
  var count = parseInt(root.getAttribute("data-count"), 10) || 1;
  var state = { mode: "time", zoom: 1 };

  function plotWidth() {
    // Fit to the page's width (no sideways scrolling); zoom in only when asked (then it scrolls).
    var avail = Math.max(document.getElementById("timeline").clientWidth - LW - 4, 160);
    return avail * state.zoom;
  }
  function crowdedInTime() {
    // Time axis unreadable when most consecutive events would land within a few pixels.
    var ms = [];
    root.querySelectorAll(".lane .event").forEach(function (m) { ms.push(parseFloat(m.getAttribute("data-ms"))); });
    if (ms.length < 4) return false;
    ms.sort(function (a, b) { return a - b; });
    var pxPerMs = (plotWidth() - 2 * PAD) / span, close = 0;
    for (var i = 1; i < ms.length; i++) if ((ms[i] - ms[i - 1]) * pxPerMs < 6) close++;
    return close / (ms.length - 1) > 0.5;
  }
  function xOf(ms, idx, w) {
    if (state.mode === "order") return PAD + (idx + 0.5) * ((w - 2 * PAD) / count);
    return PAD + (ms / span) * (w - 2 * PAD);
  }
  function niceStep(raw) {
    var p = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
  }
  function fmtMs(v, step) {
    var d = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
    return v.toFixed(Math.min(d, 4)) + " ms";
  }
  function ticks(w) {
    var axis = document.getElementById("axis"), grid = document.getElementById("grid");
    axis.textContent = ""; grid.textContent = "";
    var out = [];
    if (state.mode === "time") {
      var step = niceStep(Math.max(span / ((w - 2 * PAD) / 110), 1e-6));
      for (var v = 0; v <= span + step * 0.001; v += step) out.push([xOf(v, 0, w), fmtMs(v, step)]);
    } else {
      var every = Math.max(1, Math.ceil(110 / ((w - 2 * PAD) / count)));
      var marks = root.querySelectorAll(".lane .event");
      var msOf = {};
      for (var i = 0; i < marks.length; i++) msOf[marks[i].getAttribute("data-idx")] = parseFloat(marks[i].getAttribute("data-ms"));
      for (var k = 0; k < count; k += every) out.push([xOf(0, k, w), "#" + (k + 1) + " \u00b7 " + (msOf[k] || 0).toFixed(3) + " ms"]);
    }
    out.forEach(function (t) {
      var el = document.createElement("div");
      el.className = "tick"; el.style.left = t[0] + "px"; el.textContent = t[1];
      axis.appendChild(el);
      if (t[0] + el.offsetWidth > w) el.classList.add("flip");  // the last ticks end at their line
      var g = document.createElement("div");
      g.className = "gridline"; g.style.left = t[0] + "px";
      grid.appendChild(g);
    });
  }
  function layoutLane(lane, w) {
    var track = lane.querySelector(".lane-track");
    track.style.width = w + "px";
    var rows = parseInt(lane.getAttribute("data-bar-rows"), 10) || 0;
    var barsTop = 4, marksTop = barsTop + rows * BAR_H + (rows ? 3 : 0), labelsTop = marksTop + MARK_H;
    track.querySelectorAll(".section").forEach(function (b) {
      var x0 = xOf(parseFloat(b.getAttribute("data-ms0")), parseInt(b.getAttribute("data-b"), 10), w);
      var endIdx = parseInt(b.getAttribute("data-e"), 10);
      var x1 = state.mode === "order" ? xOf(0, endIdx, w) : xOf(parseFloat(b.getAttribute("data-ms1")), endIdx, w);
      b.style.left = x0 + "px"; b.style.width = Math.max(4, x1 - x0) + "px";
      b.style.top = (barsTop + parseInt(b.getAttribute("data-row"), 10) * BAR_H) + "px";
    });
    track.querySelectorAll(".event").forEach(function (m) {
      m.style.left = xOf(parseFloat(m.getAttribute("data-ms")), parseInt(m.getAttribute("data-idx"), 10), w) + "px";
      m.style.top = marksTop + "px";
    });
    var placed = [], bottom = labelsTop, maxW = Math.max(120, Math.floor(w * 0.45));
    var labels = Array.prototype.slice.call(track.querySelectorAll(".label"));
    labels.sort(function (a, b) { return a.classList.contains("minor") - b.classList.contains("minor"); });
    labels.forEach(function (l) {
      var x = xOf(parseFloat(l.getAttribute("data-ms")), parseInt(l.getAttribute("data-idx"), 10), w);
      l.style.display = ""; l.style.left = x + "px"; l.style.maxWidth = ""; l.classList.remove("wrap");
      if (l.offsetWidth > maxW) { l.classList.add("wrap"); l.style.maxWidth = maxW + "px"; }  // wrap, never cut
      var width = l.offsetWidth + 6, height = l.offsetHeight + 1;
      var flip = x + width > w;  // near the right edge: the label ends at its mark instead
      l.classList.toggle("flip", flip);
      if (flip) { x = Math.max(0, x - width + 6); l.style.left = x + "px"; }
      var y = labelsTop, moved = true;
      while (moved) {
        moved = false;
        for (var i = 0; i < placed.length; i++) {
          var p = placed[i];
          if (p[0] < x + width && x < p[1] && p[2] < y + height && y < p[3]) { y = p[3]; moved = true; }
        }
      }
      if (y - labelsTop >= MAX_LABEL_ROWS * LABEL_H) { l.style.display = "none"; return; }
      placed.push([x, x + width, y, y + height]); bottom = Math.max(bottom, y + height);
      l.style.top = y + "px";
    });
    track.style.height = (bottom + 6) + "px";
  }
  function layout() {
    var w = plotWidth();
    root.style.width = (w + LW) + "px";
    root.style.setProperty("--lw", LW + "px");
    document.getElementById("axis").style.width = w + "px";
    root.querySelectorAll(".lane").forEach(function (lane) { layoutLane(lane, w); });
    ticks(w);
    root.querySelectorAll(".overlap-window").forEach(function (o) {
      var x0 = xOf(parseFloat(o.getAttribute("data-ms0")), parseInt(o.getAttribute("data-b"), 10), w);
      var x1 = state.mode === "order" ? xOf(0, parseInt(o.getAttribute("data-e"), 10), w) : xOf(parseFloat(o.getAttribute("data-ms1")), 0, w);
      o.style.left = x0 + "px"; o.style.width = Math.max(2, x1 - x0) + "px";
    });
    document.body.setAttribute("data-mode", state.mode);
    var tl = document.getElementById("timeline");
    document.body.setAttribute("data-fits", tl.scrollWidth <= tl.clientWidth + 1 ? "1" : "0");
  }
  function byIdx(idx) { return document.querySelectorAll('[data-idx="' + idx + '"]'); }
  function hover(idx, on) {
    byIdx(idx).forEach(function (el) { if (!el.classList.contains("label")) el.classList.toggle("hl", on); });
    var d = document.getElementById("detail"), row = document.getElementById("ev-" + idx);
    if (on && row) d.textContent = row.getAttribute("data-text");
  }
  document.addEventListener("mouseover", function (ev) {
    var el = ev.target.closest && ev.target.closest("[data-idx]");
    if (el) hover(el.getAttribute("data-idx"), true);
  });
  document.addEventListener("mouseout", function (ev) {
    var el = ev.target.closest && ev.target.closest("[data-idx]");
    if (el) hover(el.getAttribute("data-idx"), false);
  });
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest && ev.target.closest(".lane [data-idx]");
    if (el) { var row = document.getElementById("ev-" + el.getAttribute("data-idx")); if (row) row.scrollIntoView({ block: "center" }); }
  });
  document.querySelectorAll("input[name=axis-mode]").forEach(function (r) {
    r.addEventListener("change", function () { state.mode = r.value; layout(); });
  });
  document.getElementById("zoom-in").addEventListener("click", function () { state.zoom *= 1.6; layout(); });
  document.getElementById("zoom-out").addEventListener("click", function () { state.zoom = Math.max(0.25, state.zoom / 1.6); layout(); });
  document.getElementById("zoom-reset").addEventListener("click", function () { state.zoom = 1; layout(); });
  var copy = document.getElementById("copy-replay");
  if (copy) copy.addEventListener("click", function () {
    var text = document.querySelector("#replay code").textContent;
    if (navigator.clipboard) navigator.clipboard.writeText(text);
  });
  window.addEventListener("resize", layout);
  if (/order/.test(location.hash) || (!/time/.test(location.hash) && crowdedInTime())) {
    state.mode = "order";
    document.querySelector("input[name=axis-mode][value=order]").checked = true;
  }
  layout();
  document.body.setAttribute("data-rendered", "1");
})();
"""
