// The page: the scenario (shipped or pasted), the knobs, the URL that holds
// them, the runs in a Web Worker, the charts (charts.js) and the summary
// table. Everything the simulator does happens in pooldrill_web.wasm
// (web/src/lib.rs); this file only moves text between it and the page.
"use strict";

/** Longest `toml=` value (URL-encoded characters) a link carries. */
const TOML_URL_LIMIT = 8000;
/** URL names that are not key paths. */
const RESERVED = ["scenario", "toml", "seed", "duration", "autorun", "ab"];

const $ = id => document.getElementById(id);
const state = {
  scenarios: [], // [{name, file, text}]
  scenario: "after", // a shipped scenario's name, or null when pasted
  pasted: null, // {name, text}
  table: null, // the file's values (for the knobs), null if it does not validate
  sets: new Map(), // A's key path -> value, as typed
  setsB: new Map(), // B's own key path -> value, over A's
  seed: "", duration: "", ab: false,
  files: {}, // data files dropped with the scenario: name -> bytes
};
const DATA_FILES_HINT = "A scenario that reads data files (traffic.rate_from, [[observed]]): drop them together with its TOML file.";

// --- Workers: one for quick answers, one for runs (terminated to cancel).
let nextId = 0;
function worker() {
  const w = new Worker("worker.js");
  w.pending = new Map();
  w.onmessage = ({ data }) => {
    const p = w.pending.get(data.id);
    if (!p) return;
    if ("progress" in data) p.progress?.(data.progress);
    else { w.pending.delete(data.id); p.resolve(data.answer); }
  };
  return w;
}
function ask(w, request, progress) {
  return new Promise(resolve => {
    const id = nextId++;
    w.pending.set(id, { resolve, progress });
    w.postMessage({ id, request });
  });
}
const helper = worker();
let runner = worker();

// --- The scenario and its knobs.
function source() {
  if (state.pasted) return state.pasted;
  const s = state.scenarios.find(s => s.name === state.scenario);
  return s ? { name: `${s.file}`, text: s.text } : null;
}

/** Where the job's keys live: `job`, or the first version that has one. */
function jobPath(table) {
  if (!table) return "job";
  if (table.job) return "job";
  for (const [name, v] of Object.entries(table.versions || {})) if (v.job) return `versions."${name}".job`;
  return null;
}

/** The value at a dotted key path in the file's table. */
function lookup(table, path) {
  const keys = path.match(/"[^"]*"|[^.]+/g).map(k => k.replace(/"/g, ""));
  return keys.reduce((t, k) => (t && typeof t === "object" ? t[k] : undefined), table);
}

function knobs() {
  const job = jobPath(state.table);
  const list = [
    { label: "pods", path: "fleet.pods", fallback: 20 },
    { label: "workers per pod", path: "fleet.workers", fallback: 4 },
    { label: "pool max", path: "pool.max", fallback: 10 },
    { label: "max_connections", path: "database.max_connections", fallback: 100 },
    { label: "traffic rate", path: "traffic.rate" },
  ];
  if (job) {
    list.push(
      { label: "job pool mode", path: `${job}.pool_mode`, options: ["own", "shared"], fallback: "own" },
      { label: "job release", path: `${job}.release`, options: ["leaky", "finally"], fallback: "finally" },
      { label: "leak probability (job run failure)", path: `${job}.error_probability`, fallback: 0 },
    );
  }
  list.push({ label: "duration", reserved: "duration", path: "meta.duration" },
    { label: "seed", reserved: "seed", path: "meta.seed", fallback: 1 });
  return list;
}

/** The file's value of a knob, as text. */
function fileValue(k) {
  const v = state.table ? lookup(state.table, k.path) : undefined;
  return String(v ?? k.fallback ?? "");
}

function drawKnobs() {
  for (const arm of ["a", "b"]) {
    const box = $(`knobs-${arm}`);
    box.querySelectorAll(".knob").forEach(e => e.remove());
    for (const k of knobs()) {
      if (arm === "b" && k.reserved) continue;
      const own = arm === "a" ? state.sets : state.setsB;
      const base = arm === "b" && state.sets.has(k.path) ? state.sets.get(k.path) : fileValue(k);
      const current = k.reserved ? state[k.reserved] : own.get(k.path) ?? "";
      const row = document.createElement("label");
      row.className = "knob";
      row.append(k.label + " ");
      let input;
      if (k.options) {
        input = document.createElement("select");
        input.add(new Option(`${base} (as set)`, ""));
        for (const o of k.options) input.add(new Option(o, o));
      } else {
        input = document.createElement("input");
        input.placeholder = base;
      }
      input.value = current;
      input.dataset.path = k.path;
      input.classList.toggle("changed", current !== "");
      input.addEventListener("change", () => {
        const v = input.value.trim();
        if (k.reserved) state[k.reserved] = v;
        else if (v === "") own.delete(k.path);
        else own.set(k.path, v);
        input.classList.toggle("changed", v !== "");
        writeUrl();
      });
      row.append(input);
      box.append(row);
    }
  }
}

/** Ask the module for the file's values; show its error beside the text. */
async function inspect() {
  const s = source();
  const answer = await ask(helper, { op: "table", name: s.name, source: s.text, files: state.files });
  state.table = answer.table || null;
  showError(answer.error ? answer : null);
  drawKnobs();
  return !answer.error;
}

function showError(answer) {
  const box = $("error");
  box.textContent = answer ? answer.error : "";
  box.hidden = !answer;
  const area = $("toml");
  if (answer && answer.line) {
    const lines = area.value.split("\n");
    const start = lines.slice(0, answer.line - 1).reduce((n, l) => n + l.length + 1, 0) + Math.max(answer.column - 1, 0);
    area.setSelectionRange(start, start + 1);
  }
}

// --- The URL: ?scenario=after&pool.max=6&job.pool_mode=shared (docs/browser.md).
function readUrl() {
  const params = new URLSearchParams(location.search);
  for (const [key, value] of params) {
    if (key === "scenario") state.scenario = value;
    else if (key === "toml") {
      if (encodeURIComponent(value).length > TOML_URL_LIMIT) {
        throw new Error(`toml= holds ${encodeURIComponent(value).length} URL-encoded characters, past this page's limit of ${TOML_URL_LIMIT}: open the file by pasting or dropping it instead`);
      }
      state.pasted = { name: "pasted.toml", text: value };
      state.scenario = null;
    } else if (key === "seed" || key === "duration") state[key] = value;
    else if (key === "ab") state.ab = value === "1";
    else if (key === "autorun") continue;
    else if (key.startsWith("b.")) state.setsB.set(key.slice(2), value);
    else if (key.includes(".")) state.sets.set(key, value);
    else throw new Error(`unknown URL parameter "${key}": expected a dotted key path like pool.max or one of ${RESERVED.join(", ")}`);
  }
  if (state.scenario && !state.pasted && !state.scenarios.some(s => s.name === state.scenario)) {
    throw new Error(`scenario=${state.scenario}: expected one of ${state.scenarios.map(s => s.name).join(", ")}`);
  }
}

function writeUrl() {
  const params = new URLSearchParams();
  if (state.pasted) params.set("toml", state.pasted.text);
  else params.set("scenario", state.scenario);
  if (state.seed) params.set("seed", state.seed);
  if (state.duration) params.set("duration", state.duration);
  for (const [k, v] of state.sets) params.set(k, v);
  if (state.ab) params.set("ab", "1");
  for (const [k, v] of state.setsB) params.set(`b.${k}`, v);
  const query = params.toString();
  const tooLong = state.pasted && encodeURIComponent(state.pasted.text).length > TOML_URL_LIMIT;
  $("link").textContent = tooLong ? "" : "link to this run";
  $("status").textContent = tooLong ? `this file is too long for a link (over ${TOML_URL_LIMIT} URL-encoded characters): download it to share it` : "";
  if (!tooLong) {
    history.replaceState(null, "", `?${query.replace(/%2F/g, "/")}`);
    $("link").href = location.href;
  }
}

// --- Runs.
function request(op, sets) {
  const s = source();
  return {
    op, name: s.name, source: s.text, sets: [...sets].map(([k, v]) => `${k}=${v}`),
    seed: state.seed || null, duration: state.duration || null, files: state.files,
  };
}

/** B's sets: A's, then B's own over them. */
function setsOfB() {
  return new Map([...state.sets, ...state.setsB]);
}

async function run() {
  const arms = state.ab ? [state.sets, setsOfB()] : [state.sets];
  $("run").disabled = true; $("cancel").disabled = false;
  document.body.dataset.state = "running";
  $("status").textContent = "running…";
  $("progress").value = 0;
  const started = performance.now();
  const answers = [];
  for (const [i, sets] of arms.entries()) {
    const answer = await ask(runner, request("run", sets), done => { $("progress").value = (i + done) / arms.length; });
    if (answer.cancelled) return cancelled(started);
    if (answer.error) return finish(started, answer);
    answers.push(answer);
  }
  $("progress").value = 1;
  try {
    showResults(answers);
  } catch (e) {
    return finish(started, { error: `the results could not be drawn: ${e}` });
  }
  finish(started, null);
}

/** A run the user cancelled: not an error. */
function cancelled(started) {
  $("run").disabled = false; $("cancel").disabled = true;
  $("progress").value = 0;
  document.body.dataset.elapsedMs = String(Math.round(performance.now() - started));
  document.body.dataset.state = "cancelled";
  $("status").textContent = "cancelled";
}

function finish(started, failed) {
  const elapsed = Math.round(performance.now() - started);
  $("run").disabled = false; $("cancel").disabled = true;
  document.body.dataset.elapsedMs = String(elapsed);
  if (failed) {
    showError(failed);
    $("status").textContent = "the run stopped: see the error beside the scenario";
    document.body.dataset.state = `error: ${failed.error}`;
  } else {
    showError(null);
    $("status").textContent = `done in ${elapsed} ms`;
    document.body.dataset.state = "done";
  }
}

function cancel() {
  runner.terminate();
  for (const p of runner.pending.values()) p.resolve({ cancelled: true });
  runner = worker();
}

// --- Results: charts, the table, summary.json.
const ROWS = [
  ["requests arrived", "requests.arrived"],
  ["answered in time (goodput)", "requests.goodput"],
  ["refused by PostgreSQL", "requests.refused"],
  ["pool acquire timeouts", "requests.acquire_timeouts"],
  ["clients gave up", "requests.gave_up"],
  ["error rate", "requests.error_rate", v => `${(100 * v).toFixed(3)} %`],
  ["p99 latency", "requests.p99_latency_s", v => `${(1000 * v).toFixed(1)} ms`],
  ["p99 acquire wait", "acquire.p99_wait_s", v => `${(1000 * v).toFixed(1)} ms`],
  ["request acquires starved", "acquire_by_class.request.starved"],
  ["job acquires starved", "acquire_by_class.job.starved"],
  ["peak server slots in use", "connections.peak_db_occupied"],
  ["possible connections", "connections.possible"],
  ["connections leaked", "connections.leaked"],
  ["job runs failed", "job.runs_failed"],
  ["alerts that fired", "alerts", a => a.filter(x => x.first_firing_s !== null).map(x => x.name).join(", ") || "none"],
];

function showResults(answers) {
  const summaries = answers.map(a => JSON.parse(a.summary));
  $("arms").hidden = false;
  $("arm-b").hidden = answers.length < 2; // before drawing: it sets A's width
  answers.forEach((a, i) => drawRun([...$(`arm-${"ab"[i]}`).querySelectorAll("canvas")], a.chart));
  const table = $("table");
  table.replaceChildren();
  const head = table.insertRow();
  for (const h of ["", ...(answers.length > 1 ? ["A", "B"] : [summaries[0].scenario.name])]) {
    const th = document.createElement("th"); th.textContent = h; head.append(th);
  }
  for (const [label, path, format] of ROWS) {
    const values = summaries.map(s => lookup(s, path));
    const shown = values.map(v => (v === null || v === undefined ? "–" : format ? format(v) : String(v)));
    const row = table.insertRow();
    row.insertCell().textContent = label;
    shown.forEach(text => { row.insertCell().textContent = text; });
    row.classList.toggle("differs", shown.length > 1 && shown[0] !== shown[1]);
  }
  $("summary").textContent = answers[0].summary;
}

// --- Input: the picker, the text, dropped files, the buttons.
async function pick(name) {
  state.scenario = name; state.pasted = null; state.sets.clear(); state.setsB.clear();
  state.files = {}; $("data-files").textContent = DATA_FILES_HINT;
  $("toml").value = source().text;
  await inspect();
  writeUrl();
}

let typing = null;
function edited(name, text) {
  state.pasted = { name, text }; state.scenario = null;
  $("scenario").value = "";
  clearTimeout(typing);
  typing = setTimeout(async () => { await inspect(); writeUrl(); }, 300);
}

async function download() {
  const answer = await ask(helper, request("apply", state.sets));
  if (answer.error) return showError(answer);
  const blob = new Blob([answer.toml], { type: "application/toml" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `${source().name.replace(/\.toml$/, "")}-knobs.toml`;
  a.click();
  // Some browsers read the object URL after click() returns.
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
}

function toggleAb() {
  state.ab = $("ab").checked;
  defaultB();
  drawKnobs();
  writeUrl();
}

/** B against A: the job on a shared against a separate pool by default. */
function defaultB() {
  $("knobs-b").hidden = !state.ab;
  const job = jobPath(state.table);
  if (state.ab && state.setsB.size === 0 && job) {
    const mode = state.sets.get(`${job}.pool_mode`) ?? fileValue({ path: `${job}.pool_mode`, fallback: "own" });
    state.setsB.set(`${job}.pool_mode`, mode === "shared" ? "own" : "shared");
  }
}

async function main() {
  const autorun = new URLSearchParams(location.search).get("autorun") === "1";
  const list = await ask(helper, { op: "scenarios" });
  state.scenarios = list.scenarios;
  const picker = $("scenario");
  picker.add(new Option("(pasted or dropped)", ""));
  for (const s of state.scenarios) picker.add(new Option(s.name, s.name));
  let refused = null;
  try {
    readUrl();
  } catch (e) {
    refused = e.message; // shown below, over the scenario's own check
    if (!source()) state.scenario = "after";
  }
  picker.value = state.scenario || "";
  $("toml").value = source().text;
  $("ab").checked = state.ab;
  const valid = await inspect();
  defaultB();
  drawKnobs();
  writeUrl();
  picker.addEventListener("change", () => picker.value && pick(picker.value));
  $("toml").addEventListener("input", () => edited(state.pasted?.name || "pasted.toml", $("toml").value));
  document.addEventListener("dragover", e => e.preventDefault());
  document.addEventListener("drop", async e => {
    e.preventDefault();
    // The TOML file is the scenario; the others are the data files it reads.
    const dropped = [...e.dataTransfer.files];
    const scenario = dropped.find(f => f.name.endsWith(".toml"));
    const data = dropped.filter(f => f !== scenario);
    if (data.length) {
      state.files = {};
      // Bytes as they are (a BOM and all): the hash covers them as the CLI reads them.
      for (const f of data) state.files[f.name] = Array.from(new Uint8Array(await f.arrayBuffer()));
      $("data-files").textContent = `Data files on the page: ${data.map(f => f.name).join(", ")} (not in the link: drop them again to share).`;
    }
    if (scenario) {
      $("toml").value = await scenario.text();
      edited(scenario.name, $("toml").value);
    } else if (data.length) {
      edited(source().name, $("toml").value);
    }
  });
  $("run").addEventListener("click", run);
  $("cancel").addEventListener("click", cancel);
  $("download").addEventListener("click", download);
  $("ab").addEventListener("change", toggleAb);
  document.body.dataset.state = "ready";
  if (refused) {
    showError({ error: refused });
    document.body.dataset.state = `error: ${refused}`;
  } else if (autorun) {
    if (valid) run();
    else document.body.dataset.state = `error: ${$("error").textContent}`;
  }
}

main();
