// Tokenworld explorer: builds the sliders from /api/meta, re-runs the model on every move and redraws.
// With "show uncertainty" on, each move also re-runs the ensemble and redraws every chart's fan.
"use strict";

const state = { meta: null, inFlight: false, pending: null, lastSettings: null, runs: 0, fanDraws: 0,
  levers: {}, uncertainties: {}, fans: false, fanRuns: 1000, seed: 0, notice: "", fan: null, fanFlight: null,
  fanFailed: null, result: null, lastT0: 0 };
window.__tokenworld = { timings: [], fetches: [], draws: [], fanTimings: [], fanFetches: [], fanDraws: [],
  lastError: null, charts: {}, fan: null };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

function showError(message) {
  const box = document.getElementById("error");
  box.textContent = message;
  box.hidden = !message;
  window.__tokenworld.lastError = message || null;
}

// Numbers in plain words: 1.2e12 -> "1.2 trillion" on captions, "1.2 tn" on axes; 25000 -> "25,000".
const SUFFIXES = [[1e12, " tn", " trillion"], [1e9, " bn", " billion"], [1e6, " M", " million"]];

function formatNumber(v, long = false) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "";
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 1e18 || a < 1e-3) return v.toExponential(1).replace("e+", "e").replace(".0e", "e");
  for (const [size, short, word] of SUFFIXES) {
    if (a >= size) return Number((v / size).toPrecision(3)).toLocaleString("en-US") + (long ? word : short);
  }
  return Number(v.toPrecision(3)).toLocaleString("en-US");
}

function shown(value, plain) {
  return Number((value * plain.scale).toPrecision(4));
}

// --- sliders --------------------------------------------------------------------------------------
// A slider with a number field in plain units; the model's own units are what the server gets.
// Ranges spanning two orders of magnitude or more move on a logarithmic scale.
function sliderRow(label, id, spec, value, onChange) {
  const { low, high, plain } = spec;
  const log = low > 0 && high / low >= 100;
  const toRange = (v) => (log ? Math.log10(v) : v);
  const fromRange = (r) => (log ? Number(Math.pow(10, r).toPrecision(4)) : r);
  const lo = toRange(low), hi = toRange(high);
  const step = spec.switch ? 1 : log ? (hi - lo) / 200 : stepFor(low, high);
  const range = el("input", { type: "range", min: lo, max: hi, step: step, value: toRange(value), id: id });
  const number = el("input", { type: "number", min: shown(low, plain), max: shown(high, plain), step: "any",
    value: shown(value, plain), id: id + "-value" });
  range.addEventListener("input", () => {
    const v = fromRange(Number(range.value));
    number.value = shown(v, plain);
    number.classList.remove("invalid");
    onChange(v, performance.now());
  });
  number.addEventListener("change", () => {
    const typed = Number(number.value);
    const v = typed / plain.scale;
    const tolerance = 1e-9 * Math.max(Math.abs(low), Math.abs(high), 1);
    if (number.value === "" || !Number.isFinite(typed) || v < low - tolerance || v > high + tolerance) {
      number.classList.add("invalid");
      showError(`${label}: ${number.value} is out of range; expected a number from ${shown(low, plain)} to ` +
        `${shown(high, plain)}${plain.unit ? " " + plain.unit : ""}`);
      return;
    }
    number.classList.remove("invalid");
    range.value = toRange(v);
    onChange(v, performance.now());
  });
  return el("div", { class: "row" }, el("label", { class: "label", htmlFor: id }, label),
    el("div", { class: "slider" }, range, number, el("span", { class: "unit" }, plain.unit)));
}

function stepFor(low, high) {
  const span = high - low;
  if (span <= 0) return 1;
  return Math.pow(10, Math.floor(Math.log10(span / 200)));
}

function buildLevers(meta, given = {}) {
  const box = document.getElementById("levers");
  box.replaceChildren();
  state.levers = {};
  for (const lever of meta.levers) {
    const values = {};
    for (const arg of lever.arguments) values[arg.name] = arg.name === lever.main ? 0 : arg.default;
    Object.assign(values, given[lever.name] || {});
    state.levers[lever.name] = values;
    const card = el("div", { class: "control", "data-lever": lever.name },
      el("div", { class: "title" }, lever.title), el("div", { class: "doc" }, lever.summary.replace(/`/g, "")));
    const advanced = el("details", { class: "advanced" }, el("summary", {}, "advanced: when it starts, how fast, more"));
    for (const arg of lever.arguments) {
      const row = sliderRow(arg.label, `lever-${lever.name}-${arg.name}`, arg, values[arg.name],
        (v, t0) => { values[arg.name] = v; schedule(t0); });
      (arg.name === lever.main ? card : advanced).append(row);
    }
    card.append(advanced);
    box.append(card);
  }
}

function buildUncertainties(meta, given = {}) {
  const box = document.getElementById("uncertainties");
  box.replaceChildren();
  state.uncertainties = {};
  for (const u of meta.uncertainties) {
    const value = u.name in given ? given[u.name] : u.value;
    state.uncertainties[u.name] = { value: value, initial: u.value };
    const card = el("div", { class: "control", "data-parameter": u.name },
      el("div", { class: "title" }, u.name), el("div", { class: "doc" }, u.doc));
    card.append(sliderRow(u.range ? `plausible ${shown(u.range[0], u.plain)} to ${shown(u.range[1], u.plain)}` :
      "value", `param-${u.name.replace(/ /g, "-")}`, u, value,
    (v, t0) => { state.uncertainties[u.name].value = v; schedule(t0); }));
    box.append(card);
  }
}

function settings() {
  const set = {};
  for (const [name, u] of Object.entries(state.uncertainties)) if (u.value !== u.initial) set[name] = u.value;
  const policies = [];
  for (const [name, values] of Object.entries(state.levers)) if (values.size > 0) policies.push({ name, ...values });
  return { scenario: document.getElementById("scenario").value, set, policies };
}

// --- the address: every setting in the URL, so a view can be shared and reopened -----------------
function writeAddress(body) {
  const q = new URLSearchParams();
  q.set("scenario", body.scenario);
  if (state.fans) {
    q.set("fans", "1");
    if (state.fanRuns !== state.meta.fans.runs) q.set("runs", String(state.fanRuns));
  }
  for (const policy of body.policies) {
    const lever = state.meta.levers.find((l) => l.name === policy.name);
    for (const arg of lever.arguments) {
      if (arg.name === lever.main || policy[arg.name] !== arg.default) q.set(`${policy.name}.${arg.name}`, policy[arg.name]);
    }
  }
  for (const [name, value] of Object.entries(body.set)) q.set(name, value);
  history.replaceState(null, "", "?" + q.toString());
}

// The settings an address holds, each checked as the sliders check a typed value; what is wrong is named.
function readAddress(meta) {
  const q = new URLSearchParams(location.search);
  const found = { scenario: "baseline", fans: false, runs: meta.fans.runs, levers: {}, set: {}, errors: [] };
  for (const [key, text] of q.entries()) {
    const value = Number(text);
    if (key === "scenario") {
      if (meta.scenarios.some((s) => s.name === text)) found.scenario = text;
      else found.errors.push(`scenario: no scenario named '${text}'`);
      continue;
    }
    if (key === "fans") { found.fans = text === "1"; continue; }
    if (key === "runs") {
      if (Number.isInteger(value) && value >= 2 && value <= 10000) found.runs = value;
      else found.errors.push(`runs: '${text}' is not a whole number of runs from 2 to 10000`);
      continue;
    }
    const dot = key.lastIndexOf(".");
    const lever = dot > 0 ? meta.levers.find((l) => l.name === key.slice(0, dot)) : null;
    const arg = lever ? lever.arguments.find((a) => a.name === key.slice(dot + 1)) : null;
    const u = meta.uncertainties.find((x) => x.name === key);
    const spec = arg || u;
    if (!spec) { found.errors.push(`${key}: not a lever argument or a slider of this explorer`); continue; }
    if (text === "" || !Number.isFinite(value) || value < spec.low || value > spec.high) {
      found.errors.push(`${key}: '${text}' is out of range; expected a number from ${spec.low} to ${spec.high}`);
      continue;
    }
    if (arg) (found.levers[lever.name] ||= {})[arg.name] = value;
    else found.set[u.name] = value;
  }
  return found;
}

// --- charts ----------------------------------------------------------------------------------------
// uPlot canvases: the scenario's own path (dashed), yours, and with the fans the 5-95% and 25-75%
// bands and the median of the ensemble.
const BLUE = "31,111,178";
const SERIES = ["scenario", "yours", "p5", "p25", "p50", "p75", "p95"];

function chartId(name) {
  return "chart-" + name.replace(/ /g, "-");
}

// Published anchors (models/<model>-anchors.csv) drawn over a chart: a point at the central figure
// with an error bar from low to high, on the chart's own scales.
function anchorsPlugin(anchors, scale) {
  return {
    hooks: {
      draw: (u) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = ctx.fillStyle = "#c0392b";
        ctx.lineWidth = 1.5 * devicePixelRatio;
        for (const a of anchors) {
          const x = u.valToPos(a.year, "x", true);
          const [y, lo, hi] = [a.central, a.low, a.high].map((v) => u.valToPos(v * scale, "y", true));
          if (![x, y, lo, hi].every(Number.isFinite)) continue;
          const w = 4 * devicePixelRatio;
          ctx.beginPath();
          ctx.moveTo(x, lo); ctx.lineTo(x, hi);
          ctx.moveTo(x - w, lo); ctx.lineTo(x + w, lo);
          ctx.moveTo(x - w, hi); ctx.lineTo(x + w, hi);
          ctx.stroke();
          ctx.beginPath();
          ctx.arc(x, y, 3 * devicePixelRatio, 0, 2 * Math.PI);
          ctx.fill();
        }
        ctx.restore();
      },
    },
  };
}

function buildCharts(meta) {
  const box = document.getElementById("charts");
  box.replaceChildren();
  window.__tokenworld.charts = {};
  for (const chart of meta.charts) {
    const div = el("div", { class: "chart", id: chartId(chart.name), "data-fan": "off" });
    const caption = el("div", { class: "caption" });
    box.append(div);
    const fmt = (u, v) => formatNumber(v);
    const band = (label, alpha) => ({ label, stroke: `rgba(${BLUE},${alpha})`, width: 1, value: fmt });
    const options = {
      title: chart.name + (chart.anchors && chart.anchors.length ? " (red: published figures)" : ""),
      plugins: chart.anchors && chart.anchors.length ? [anchorsPlugin(chart.anchors, chart.plain.scale)] : [],
      width: Math.max(320, div.clientWidth || 420),
      height: 230,
      scales: { x: { time: false }, y: chart.log ? { distr: 3 } : {} },
      axes: [{ values: (u, vals) => vals.map((v) => String(v)) },
             { size: 72, label: chart.plain.unit, labelSize: 14, values: (u, vals) => vals.map((v) => formatNumber(v)) }],
      series: [
        { label: "year" },
        { label: "scenario", stroke: "#888", dash: [6, 4], width: 2, value: fmt },
        { label: "your run", stroke: `rgb(${BLUE})`, width: 2.5, value: fmt },
        band("p5", 0.35), band("p25", 0.5),
        { label: "median", stroke: "#0b3c68", width: 1.5, dash: [2, 3], value: fmt },
        band("p75", 0.5), band("p95", 0.35),
      ],
      bands: [{ series: [7, 3], fill: `rgba(${BLUE},0.13)` }, { series: [6, 4], fill: `rgba(${BLUE},0.25)` }],
    };
    window.__tokenworld.charts[chart.name] = new uPlot(options, [[], [], [], [], [], [], [], []], div);
    div.append(caption);
  }
}

function scaled(values, chart, length) {
  const out = new Array(length).fill(null);
  for (let i = 0; i < Math.min(length, values.length); i++) {
    const v = values[i] === null ? null : values[i] * chart.plain.scale;
    out[i] = chart.log && !(v > 0) ? null : v;
  }
  return out;
}

function change(base, yours) {
  if (!(Math.abs(base) > 0)) return "";
  const pct = 100 * (yours / base - 1);
  if (Math.abs(pct) < 0.05) return " (same)";
  return ` (${pct > 0 ? "+" : ""}${Number(pct.toPrecision(2))}%)`;
}

// The lines and, with the fans on, the bands; bands of the previous settings stay until new ones come.
async function draw(result, fan) {
  const time = fan && fan.time.length > result.time.length ? fan.time : result.time;
  const n = time.length;
  for (const chart of state.meta.charts) {
    const plot = window.__tokenworld.charts[chart.name];
    const lines = [scaled(result.baseline[chart.name], chart, n), scaled(result.series[chart.name], chart, n)];
    const bands = SERIES.slice(2).map((key) => (fan ? scaled(fan.charts[chart.name][key], chart, n) : new Array(n).fill(null)));
    plot.setData([time, ...lines, ...bands]);
    const div = document.getElementById(chartId(chart.name));
    div.dataset.fan = fan ? String(fan.draw) : "off";
    caption(div.querySelector(".caption"), chart, result, fan);
  }
  // Resolve once the browser has painted the new frame.
  await new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

// Under each chart: the scenario's and your value in the last year side by side, and with the fans
// their 90% range and the uncertainty that drives it most (Spearman's rank correlation over the runs).
function caption(box, chart, result, fan) {
  const unit = chart.plain.unit ? " " + chart.plain.unit : "";
  const last = result.time.length - 1;
  const base = result.baseline[chart.name][last] * chart.plain.scale;
  const yours = result.series[chart.name][last] * chart.plain.scale;
  const lines = [el("div", {}, el("b", {}, `${result.time[last]}: `), `scenario ${formatNumber(base, true)}, ` +
    `your run ${formatNumber(yours, true)}${unit}${change(base, yours)}`)];
  if (fan) {
    const band = fan.charts[chart.name];
    const end = fan.time.length - 1;
    const p5 = band.p5[end], p95 = band.p95[end];
    const drivers = fan.drivers[chart.name];
    const range = p5 === null ? "every run diverged" :
      `90% of futures ${formatNumber(p5 * chart.plain.scale, true)} to ${formatNumber(p95 * chart.plain.scale, true)}`;
    const driver = p5 === null ? "" : drivers.length === 0 ? "; the same in every future" :
      `; spread driven most by ${drivers[0].name} (ρ ${drivers[0].rho > 0 ? "+" : ""}${drivers[0].rho.toFixed(2)})` +
      (drivers[1] ? `, then ${drivers[1].name} (${drivers[1].rho > 0 ? "+" : ""}${drivers[1].rho.toFixed(2)})` : "");
    lines.push(el("div", { class: "driver", "data-driver": drivers.length ? drivers[0].name : "" }, range + driver));
  }
  box.replaceChildren(...lines);
}

function fanNote(fan) {
  const note = document.getElementById("fan-note");
  note.dataset.state = fan ? "ready" : "off";
  document.getElementById("fan-command-line").hidden = !fan;
  document.getElementById("fan-command").textContent = fan ? fan.command : "";
  if (!fan) { note.replaceChildren(); return; }
  const held = fan.fixed.map((f) => `${f.name} (${f.reason})`).join(", ");
  note.replaceChildren(`Shaded: 5–95% and 25–75% of ${fan.n.toLocaleString()} futures, dotted: their median. ` +
    `${fan.varied.length} key uncertainties vary over their plausible ranges (Latin hypercube, seed ${fan.seed}; ` +
    "the same futures for every lever setting)" + (held ? `; held: ${held}` : "") + ". " +
    (fan.diverged ? `${fan.diverged.toLocaleString()} runs diverged and are left out of the bands.` : "No run diverged."));
}

// --- runs ------------------------------------------------------------------------------------------
function schedule(t0) {
  if (t0 !== undefined) state.notice = "";  // a move by the user: the address's complaint has been read
  clearTimeout(loopTimer);  // the loop view waits until the sliders are still
  state.pending = { settings: settings(), t0: t0 ?? performance.now() };
  writeAddress(state.pending.settings);
  if (!state.inFlight) runPending();
}

async function post(body) {
  const sent = performance.now();
  const response = await fetch("/api/run", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body) });
  const result = await response.json();
  if (!response.ok) throw new Error(result.error || `the server answered ${response.status}`);
  return { result, ms: performance.now() - sent };
}

// A move redraws the lines at once (one run). With the fans on, the ensemble's request goes out
// together with the lines' (the server answers both at once) and its bands are drawn when it comes,
// if the lines on screen are still for its settings. One ensemble runs at a time: while a slider is
// dragged the lines follow it and the fans catch up when it rests.
async function runPending() {
  if (!state.pending) return;
  const { settings: body, t0 } = state.pending;
  state.pending = null;
  state.inFlight = true;
  const tw = window.__tokenworld;
  let drawn = () => {};
  const linesDrawn = new Promise((resolve) => { drawn = resolve; });
  if (state.fans && !state.fanFlight) startFan(body, t0, linesDrawn);
  try {
    const single = await post(body);
    tw.fetches.push(single.ms);
    showError(state.notice);
    if (!state.fans || (state.fan && state.fan.scenario !== body.scenario)) state.fan = null;
    // Set before drawing: an ensemble arriving meanwhile then sees that the lines have moved on.
    state.lastSettings = body;
    state.lastT0 = t0;
    state.result = single.result;
    const started = performance.now();
    await draw(single.result, state.fan);
    tw.draws.push(performance.now() - started);
    tw.timings.push(performance.now() - t0);
    state.runs += 1;
    document.body.dataset.runs = String(state.runs);
    document.getElementById("command").textContent = single.result.command;
    status(single.result, state.fan && state.fan.key === fanKey(body) ? state.fan : null, performance.now() - t0);
    if (!state.fanFlight || !state.fans) fanNote(state.fan);
    scheduleLoops(body);
    drawn(true);
  } catch (err) {
    drawn(false);
    showFailure(err);
  } finally {
    state.inFlight = false;
    if (state.pending) runPending();
    else catchUpFan();
  }
}

// A request that failed: the server's message, or that the server could not be reached.
function showFailure(err) {
  showError(err instanceof TypeError ? "could not reach the Tokenworld server: " + err : err.message);
}

function fanKey(body) {
  return JSON.stringify([body, state.fanRuns, state.seed]);
}

// The ensemble for these settings; its bands are drawn once their lines are, unless the user has
// moved on (then it is dropped and the fans catch up with the latest settings).
function startFan(body, t0, linesDrawn) {
  const key = fanKey(body);
  const tw = window.__tokenworld;
  document.getElementById("fan-note").dataset.state = "updating";
  const request = post({ ...body, ensemble: { n: state.fanRuns, seed: state.seed } });
  state.fanFlight = request;
  Promise.all([request, linesDrawn]).then(async ([ensemble, linesOk]) => {
    if (!linesOk || !state.fans || key !== fanKey(state.lastSettings)) return;  // stale: the lines moved on
    state.fan = { ...ensemble.result, scenario: body.scenario, key, draw: state.fanDraws + 1 };
    const started = performance.now();
    await draw(state.result, state.fan);
    tw.fanDraws.push(performance.now() - started);
    tw.fanFetches.push(ensemble.ms);
    tw.fanTimings.push(performance.now() - t0);
    tw.fan = state.fan;
    state.fanDraws += 1;
    document.body.dataset.fans = String(state.fanDraws);
    status(state.result, state.fan, performance.now() - t0);
    fanNote(state.fan);
  }).catch((err) => {
    state.fanFailed = key;  // not asked again for the same settings
    document.getElementById("fan-note").dataset.state = "error";
    showFailure(err);
  }).finally(() => {
    if (state.fanFlight === request) state.fanFlight = null;
    catchUpFan();
  });
}

// With the sliders at rest and no ensemble running, bring the fans up to the lines on screen.
function catchUpFan() {
  if (!state.fans || state.fanFlight || state.inFlight || state.pending || !state.lastSettings) return;
  const key = fanKey(state.lastSettings);
  if ((state.fan && state.fan.key === key) || state.fanFailed === key) return;
  startFan(state.lastSettings, state.lastT0, Promise.resolve(true));
}

function status(result, fan, ms) {
  document.getElementById("status").textContent =
    `${result.engine} engine: model ${(1000 * result.seconds).toFixed(0)} ms` +
    (fan ? `, ${fan.n.toLocaleString()} runs ${(1000 * fan.seconds).toFixed(0)} ms` : "") +
    `, redrawn in ${ms.toFixed(0)} ms` + (result.status === "diverged" ? ` — diverged at ${result.diverged_at}` : "");
}

// The loop view follows the charts a moment later: scoring every loop takes seconds, so it
// runs once the sliders have been still for a while, and only for the latest settings.
const LOOP_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];
let loopTimer = null;
let loopRequest = 0;

function scheduleLoops(body) {
  clearTimeout(loopTimer);
  loopTimer = setTimeout(() => loadLoops(body), 700);
}

async function loadLoops(body) {
  const mine = ++loopRequest;
  const box = document.getElementById("loops");
  box.dataset.state = "computing";
  box.querySelector(".hint")?.replaceChildren("Scoring the feedback loops of this run (Loops That Matter)…");
  const response = await fetch("/api/loops", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body) });
  const result = await response.json();
  if (mine !== loopRequest) return;  // a newer run is on its way
  box.replaceChildren();
  if (!response.ok) {
    box.append(el("p", { class: "hint" }, result.error || `the server answered ${response.status}`));
    box.dataset.state = "error";
    return;
  }
  const families = result.families.filter((f) => f.name !== "other loops").slice(0, 6);
  const counted = result.found_by === "discovery"
    ? `${result.count.toLocaleString()} loops discovered along this run: the model has too many to enumerate`
    : `${result.count.toLocaleString()} loops`;
  box.append(el("p", { class: "hint" }, `Share of all loop activity by family of loops (${counted}; ` +
    "Loops That Matter, summed absolute relative loop scores). The family on top drives the change at that time."));
  const div = el("div", { class: "loop-chart" });
  box.append(div);
  const options = {
    width: Math.max(320, box.clientWidth - 20), height: 240,
    scales: { x: { time: false }, y: { range: [0, 1] } },
    axes: [{ values: (u, ticks) => ticks.map((t) => String(t)) }, { label: "share" }],
    series: [{ label: "year", value: (u, v) => (v == null ? "" : v.toFixed(1)) },
      ...families.map((f, i) => ({ label: f.name, stroke: LOOP_COLOURS[i], width: 2,
        value: (u, v) => (v == null ? "" : v.toFixed(2)) }))],
  };
  new uPlot(options, [result.time, ...families.map((f) => f.share)], div);
  const top = result.top_loops[0];
  if (top) {
    box.append(el("p", { class: "hint" }, `Most important single loop (${top.polarity}): ` + top.variables.join(" → ")));
  }
  box.dataset.state = "ready";
}

async function download() {
  const body = state.lastSettings || settings();
  const response = await fetch("/api/download", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body) });
  if (!response.ok) {
    const result = await response.json();
    showError(result.error || `the server answered ${response.status}`);
    return;
  }
  const blob = await response.blob();
  const link = el("a", { href: URL.createObjectURL(blob), download: `tokenworld-${body.scenario}.zip` });
  document.body.append(link);
  link.click();
  link.remove();
}

function resetControls(given = {}) {
  buildLevers(state.meta, given.levers);
  buildUncertainties(state.meta, given.set);
  schedule();
}

async function start() {
  const response = await fetch("/api/meta");
  state.meta = await response.json();
  // How each value is shown: its units in words and the factor from the model's units.
  const plain = (spec) => { spec.plain = { unit: spec.shown_units, scale: spec.scale }; };
  state.meta.levers.forEach((lever) => lever.arguments.forEach(plain));
  state.meta.uncertainties.forEach(plain);
  state.meta.charts.forEach(plain);
  const given = readAddress(state.meta);
  const picker = document.getElementById("scenario");
  for (const s of state.meta.scenarios) picker.append(el("option", { value: s.name, textContent: s.name, selected: s.name === given.scenario }));
  const describe = () => {
    const s = state.meta.scenarios.find((x) => x.name === picker.value);
    document.getElementById("scenario-description").textContent = s ? s.description : "";
  };
  picker.addEventListener("change", () => { describe(); resetControls(); });
  document.getElementById("reset").addEventListener("click", () => resetControls());
  document.getElementById("download").addEventListener("click", download);
  const fans = document.getElementById("fans");
  const runs = document.getElementById("fan-runs");
  state.fans = given.fans;
  state.fanRuns = given.runs;
  fans.checked = state.fans;
  if (![...runs.options].some((o) => Number(o.value) === state.fanRuns)) {
    runs.append(el("option", { value: String(state.fanRuns), textContent: `${state.fanRuns.toLocaleString()} runs` }));
  }
  runs.value = String(state.fanRuns);
  fans.addEventListener("change", () => { state.fans = fans.checked; schedule(); });
  runs.addEventListener("change", () => { state.fanRuns = Number(runs.value); schedule(); });
  describe();
  buildCharts(state.meta);
  if (given.errors.length) state.notice = "This address has settings the explorer cannot use: " + given.errors.join("; ");
  resetControls(given);
}

start();
