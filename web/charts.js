// The run's charts, drawn on <canvas> with the look of the PNG/SVG charts
// (src/report/charts/): the Okabe–Ito colours, DejaVu Sans, grey grid lines,
// the legend on the right, deploys and alerts as dashed numbered lines.
// Canvas rather than SVG strings from the core: the wasm module stays free
// of drawing code (smaller, quicker to build), and a chart of 1800 points
// per line redraws in a few milliseconds on every run.
"use strict";

const COLOURS = {
  black: "rgb(0,0,0)", orange: "rgb(230,159,0)", skyBlue: "rgb(86,180,233)",
  green: "rgb(0,158,115)", yellow: "rgb(240,228,66)", blue: "rgb(0,114,178)",
  vermillion: "rgb(213,94,0)", purple: "rgb(204,121,167)",
  grid: "rgb(225,225,225)", muted: "rgb(90,90,90)",
};
const MARKER_COLOUR = { deploy: COLOURS.blue, rollback: COLOURS.green, alert: COLOURS.vermillion, event: COLOURS.black };
const FONT = "DejaVu Sans, sans-serif";

/** The four charts of a run's `chart` answer, into `figure`'s canvases. */
function drawRun(canvases, c) {
  const t = c.time_s;
  const markers = c.markers;
  const perSecond = col => col.map(v => v / c.sample_interval_s);
  const stack = (...cols) => t.map((_, i) => cols.reduce((s, col) => s + col[i], 0));
  draw(canvases[0], {
    title: "Connections against the cap", yTitle: "connections", t, markers,
    areas: [
      { label: "leaked by the job (never released)", colour: COLOURS.purple, top: stack(c.request_pools, c.job_pools, c.leaked) },
      { label: "held by the job's pools", colour: COLOURS.orange, top: stack(c.request_pools, c.job_pools) },
      { label: "held by request pools", colour: COLOURS.skyBlue, top: c.request_pools },
    ],
    lines: [{ label: "all server slots in use", colour: COLOURS.black, data: c.db_occupied, width: 1 }],
    rules: [
      { label: `usable by the app: ${c.usable_slots}`, colour: COLOURS.vermillion, y: c.usable_slots },
      { label: `max_connections: ${c.max_connections}`, colour: COLOURS.black, y: c.max_connections, dash: [6, 4] },
    ],
    yMin: 0,
  });
  draw(canvases[1], {
    title: "Timeouts and errors", yTitle: "failures/s", t, markers,
    lines: [
      { label: "refused by PostgreSQL (cap)", colour: COLOURS.vermillion, data: perSecond(c.refusals) },
      { label: "pool acquire timeouts", colour: COLOURS.blue, data: perSecond(c.acquire_timeouts) },
      { label: "clients gave up", colour: COLOURS.purple, data: perSecond(c.gave_up) },
      { label: "other app errors", colour: COLOURS.muted, data: perSecond(c.app_errors), width: 1 },
    ],
    yMin: 0,
  });
  draw(canvases[2], {
    title: "Starvation: acquires that waited over 100 ms or failed", yTitle: "acquires/s", t, markers,
    lines: [
      { label: "request acquires starved", colour: COLOURS.blue, data: perSecond(c.starved_requests) },
      { label: "job acquires starved", colour: COLOURS.orange, data: perSecond(c.starved_jobs) },
    ],
    yMin: 0,
  });
  draw(canvases[3], {
    title: "Acquire wait percentiles", yTitle: "wait (log)", t, markers, log: true,
    lines: [
      { label: "p99 wait for a connection", colour: COLOURS.blue, data: c.wait_p99_s },
      { label: "p95 wait", colour: COLOURS.orange, data: c.wait_p95_s },
      { label: "median (p50) wait", colour: COLOURS.green, data: c.wait_p50_s },
    ],
    rules: [{ label: "starved: wait > 100 ms", colour: COLOURS.vermillion, y: 0.1, dash: [6, 4] }],
  });
}

/** A wait in seconds for the log axis: 1 ms, 100 ms, 10 s. */
function waitLabel(s) {
  if (s >= 1) return `${+s.toPrecision(3)} s`;
  return `${+(s * 1000).toPrecision(3)} ms`;
}

/** Round tick steps covering [lo, hi] in about `n` steps. */
function ticks(lo, hi, n) {
  const raw = (hi - lo) / n || 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= raw);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

/** Minutes and seconds from the start: 5m, 12m30s. */
function timeLabel(s) {
  const m = Math.floor(s / 60), r = Math.round(s - 60 * m);
  return r ? (m ? `${m}m${r}s` : `${r}s`) : `${m}m`;
}

/** One chart: stacked areas, lines, horizontal rules, markers, legend. */
function draw(canvas, spec) {
  const scale = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 900, height = canvas.clientHeight || 300;
  canvas.width = width * scale; canvas.height = height * scale;
  const g = canvas.getContext("2d");
  g.setTransform(scale, 0, 0, scale, 0, 0);
  g.fillStyle = "white"; g.fillRect(0, 0, width, height);
  const px = size => `${size}px ${FONT}`;
  const legend = Math.min(250, width * 0.3);
  const plot = { left: 78, top: 60, right: width - legend, bottom: height - 58 };
  g.fillStyle = COLOURS.black; g.font = px(20); g.textBaseline = "alphabetic";
  g.fillText(spec.title, 14, 28);
  const t = spec.t, tMax = t.length ? t[t.length - 1] : 1;
  const all = [...(spec.lines || []).flatMap(l => l.data), ...(spec.areas || []).flatMap(a => a.top),
    ...(spec.rules || []).map(r => r.y)].filter(v => v !== null && Number.isFinite(v));
  let lo, hi, y;
  if (spec.log) {
    const floor = 1e-4;
    lo = Math.log10(floor); hi = Math.max(1, Math.ceil(Math.log10(Math.max(largest(all), 1))));
    y = v => plot.bottom - (Math.log10(Math.max(v, floor)) - lo) / (hi - lo) * (plot.bottom - plot.top);
  } else {
    lo = spec.yMin ?? (all.length ? smallest(all) : 0); hi = Math.max(largest(all), lo + 1) * 1.08;
    y = v => plot.bottom - (v - lo) / (hi - lo) * (plot.bottom - plot.top);
  }
  const x = s => plot.left + s / tMax * (plot.right - plot.left);
  // Grid and ticks.
  g.strokeStyle = COLOURS.grid; g.lineWidth = 1; g.font = px(13); g.fillStyle = COLOURS.black;
  const yTicks = spec.log ? ticks(lo, hi, hi - lo).map(e => 10 ** e) : ticks(lo, hi, 4);
  g.textAlign = "right"; g.textBaseline = "middle";
  for (const v of yTicks) {
    line(g, plot.left, y(v), plot.right, y(v));
    g.fillText(spec.log ? waitLabel(v) : String(v), plot.left - 6, y(v));
  }
  g.textAlign = "center"; g.textBaseline = "top";
  for (const s of ticks(0, tMax, 8)) {
    line(g, x(s), plot.top, x(s), plot.bottom);
    g.fillText(timeLabel(s), x(s), plot.bottom + 6);
  }
  g.fillText("time from the start", (plot.left + plot.right) / 2, plot.bottom + 24);
  g.save(); g.translate(18, (plot.top + plot.bottom) / 2); g.rotate(-Math.PI / 2);
  g.font = px(14); g.fillText(spec.yTitle, 0, 0); g.restore();
  // Areas (the first is the top of the stack), lines, rules.
  for (const a of spec.areas || []) {
    g.beginPath(); g.moveTo(x(t[0]), y(0));
    t.forEach((s, i) => g.lineTo(x(s), y(a.top[i])));
    g.lineTo(x(tMax), y(0)); g.closePath(); g.fillStyle = a.colour; g.fill();
  }
  for (const l of spec.lines || []) {
    g.beginPath(); g.strokeStyle = l.colour; g.lineWidth = l.width || 2; let pen = false;
    t.forEach((s, i) => {
      const v = l.data[i];
      if (v === null || !Number.isFinite(v)) { pen = false; return; }
      if (pen) g.lineTo(x(s), y(v)); else g.moveTo(x(s), y(v));
      pen = true;
    });
    g.stroke();
  }
  for (const r of spec.rules || []) {
    g.setLineDash(r.dash || []); g.strokeStyle = r.colour; g.lineWidth = 2;
    line(g, plot.left, y(r.y), plot.right, y(r.y)); g.setLineDash([]);
  }
  // Markers: dashed lines with numbered boxes above the plot.
  g.font = px(12); g.textAlign = "center"; g.textBaseline = "middle";
  (spec.markers || []).forEach((m, i) => {
    const colour = MARKER_COLOUR[m.kind] || COLOURS.black;
    g.setLineDash([5, 4]); g.strokeStyle = colour; g.lineWidth = 2;
    line(g, x(m.t), plot.top, x(m.t), plot.bottom); g.setLineDash([]);
    g.fillStyle = colour; g.fillRect(x(m.t) - 8, plot.top - 24, 16, 18);
    g.fillStyle = "white"; g.fillText(String(i + 1), x(m.t), plot.top - 15);
  });
  g.strokeStyle = COLOURS.black; g.lineWidth = 1; g.strokeRect(plot.left, plot.top, plot.right - plot.left, plot.bottom - plot.top);
  // Legend.
  g.textAlign = "left"; g.textBaseline = "middle"; g.font = px(legend < 250 ? 11 : 13);
  const entries = [...(spec.areas || []).map(a => ({ ...a, box: true })), ...(spec.lines || []), ...(spec.rules || [])];
  entries.forEach((e, i) => {
    const ly = plot.top + 10 + i * 22, lx = plot.right + 16;
    g.fillStyle = e.colour; g.strokeStyle = e.colour; g.lineWidth = 3; g.setLineDash(e.dash || []);
    if (e.box) g.fillRect(lx, ly - 6, 26, 12); else line(g, lx, ly, lx + 26, ly);
    g.setLineDash([]); g.fillStyle = COLOURS.black;
    fitText(g, e.label, lx + 34, ly, width - lx - 40, legend < 250 ? 11 : 13);
  });
  const keyed = (spec.markers || []).map((m, i) => `${i + 1} ${m.label}`).join(" · ");
  g.fillStyle = COLOURS.muted; g.font = px(12); g.textBaseline = "bottom";
  if (keyed) g.fillText(keyed, plot.left, height - 4);
}

/** `text` at (x, y) in at most `room` pixels: the font shrinks from `size`
 * down to 9 px, then the text is cut with an ellipsis. */
function fitText(g, text, x, y, room, size) {
  let shown = text;
  for (; size > 9; size--) {
    g.font = `${size}px ${FONT}`;
    if (g.measureText(text).width <= room) break;
  }
  g.font = `${size}px ${FONT}`;
  while (shown.length > 1 && g.measureText(shown).width > room) shown = `${shown.slice(0, -2)}…`;
  g.fillText(shown, x, y);
}

/** The largest of `values` (-Infinity for none): a loop, since spreading a
 * day of one-second samples into Math.max overflows the call stack. */
function largest(values) {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  return m;
}

/** The smallest of `values` (Infinity for none). */
function smallest(values) {
  let m = Infinity;
  for (const v of values) if (v < m) m = v;
  return m;
}

function line(g, x0, y0, x1, y1) {
  g.beginPath(); g.moveTo(x0, y0); g.lineTo(x1, y1); g.stroke();
}
