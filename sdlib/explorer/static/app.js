// Tokenworld explorer: builds the sliders from /api/meta, re-runs the model on every move and redraws.
"use strict";

const state = { meta: null, inFlight: false, pending: null, lastSettings: null, runs: 0 };
window.__tokenworld = { timings: [], fetches: [], draws: [], lastError: null };

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

function stepFor(low, high) {
  const span = high - low;
  if (span <= 0) return 1;
  const raw = span / 200;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  return power;
}

// A labelled slider with a number field; both stay in step and are checked against the range.
function sliderRow(label, id, low, high, value, units, onChange) {
  const step = stepFor(low, high);
  const range = el("input", { type: "range", min: low, max: high, step: step, value: value, id: id });
  const number = el("input", { type: "number", min: low, max: high, step: "any", value: value, id: id + "-value" });
  range.addEventListener("input", () => {
    number.value = range.value;
    number.classList.remove("invalid");
    onChange(Number(range.value), performance.now());
  });
  number.addEventListener("change", () => {
    const v = Number(number.value);
    if (number.value === "" || !Number.isFinite(v) || v < low || v > high) {
      number.classList.add("invalid");
      showError(`${label}: ${number.value} is out of range; expected a number from ${low} to ${high} ${units}`);
      return;
    }
    number.classList.remove("invalid");
    range.value = v;
    onChange(v, performance.now());
  });
  return el("div", { class: "row" }, el("span", {}, label), range, number);
}

function buildLevers(meta) {
  const box = document.getElementById("levers");
  box.replaceChildren();
  state.levers = {};
  for (const lever of meta.levers) {
    const values = {};
    for (const arg of lever.arguments) values[arg.name] = arg.name === "size" ? 0 : arg.default;
    state.levers[lever.name] = values;
    const card = el("div", { class: "control", "data-lever": lever.name },
      el("div", { class: "title" }, lever.name),
      el("div", { class: "doc" }, `${lever.summary} (seed ${lever.seed})`));
    for (const arg of lever.arguments) {
      card.append(sliderRow(arg.name, `lever-${lever.name}-${arg.name}`, arg.low, arg.high, values[arg.name],
        arg.units, (v, t0) => { values[arg.name] = v; schedule(t0); }));
      card.append(el("div", { class: "units" }, `${arg.doc} [${arg.units}]`));
    }
    box.append(card);
  }
}

function buildUncertainties(meta) {
  const box = document.getElementById("uncertainties");
  box.replaceChildren();
  state.uncertainties = {};
  for (const u of meta.uncertainties) {
    state.uncertainties[u.name] = { value: u.value, initial: u.value };
    const card = el("div", { class: "control", "data-parameter": u.name },
      el("div", { class: "title" }, u.name), el("div", { class: "doc" }, `${u.doc} [${u.units}]`));
    card.append(sliderRow("value", `param-${u.name.replace(/ /g, "-")}`, u.low, u.high, u.value, u.units,
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

// Charts are uPlot canvases: redrawing eight of them takes a few milliseconds.
function formatNumber(v) {
  if (v === null || v === undefined) return "";
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace("e+", "e");
  return String(Number(v.toPrecision(3)));
}

function positive(values) {
  return values.map((v) => (v > 0 ? v : null));
}

// Published anchors (models/<model>-anchors.csv) drawn over a chart: a point at the central figure
// with an error bar from low to high, on the chart's own scales.
function anchorsPlugin(anchors) {
  return {
    hooks: {
      draw: (u) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = ctx.fillStyle = "#c0392b";
        ctx.lineWidth = 1.5 * devicePixelRatio;
        for (const a of anchors) {
          const x = u.valToPos(a.year, "x", true);
          const [y, lo, hi] = [a.central, a.low, a.high].map((v) => u.valToPos(v, "y", true));
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
    const div = el("div", { class: "chart", id: "chart-" + chart.name.replace(/ /g, "-") });
    box.append(div);
    const options = {
      title: chart.name + (chart.anchors && chart.anchors.length ? " (red: published figures)" : ""),
      plugins: chart.anchors && chart.anchors.length ? [anchorsPlugin(chart.anchors)] : [],
      width: Math.max(320, div.clientWidth || 420),
      height: 230,
      scales: { x: { time: false }, y: chart.log ? { distr: 3 } : {} },
      axes: [{ values: (u, vals) => vals.map((v) => String(v)) },
             { size: 64, label: chart.units, labelSize: 14, values: (u, vals) => vals.map(formatNumber) }],
      series: [
        { label: "year" },
        { label: "scenario", stroke: "#999", dash: [6, 4], width: 2, value: (u, v) => formatNumber(v) },
        { label: "with your changes", stroke: "#1f6fb2", width: 3, value: (u, v) => formatNumber(v) },
      ],
    };
    window.__tokenworld.charts[chart.name] = new uPlot(options, [[], [], []], div);
  }
}

async function draw(result) {
  for (const chart of state.meta.charts) {
    const plot = window.__tokenworld.charts[chart.name];
    const base = result.baseline[chart.name];
    const current = result.series[chart.name];
    plot.setData([result.time, chart.log ? positive(base) : base, chart.log ? positive(current) : current]);
  }
  // Resolve once the browser has painted the new frame.
  await new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

function schedule(t0) {
  state.pending = { settings: settings(), t0: t0 ?? performance.now() };
  if (!state.inFlight) runPending();
}

async function runPending() {
  if (!state.pending) return;
  const { settings: body, t0 } = state.pending;
  state.pending = null;
  state.inFlight = true;
  try {
    const sent = performance.now();
    const response = await fetch("/api/run", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body) });
    const result = await response.json();
    window.__tokenworld.fetches.push(performance.now() - sent);
    if (!response.ok) {
      showError(result.error || `the server answered ${response.status}`);
    } else {
      showError("");
      const drawStart = performance.now();
      await draw(result);
      window.__tokenworld.draws.push(performance.now() - drawStart);
      state.lastSettings = body;
      state.runs += 1;
      const ms = performance.now() - t0;
      window.__tokenworld.timings.push(ms);
      document.body.dataset.runs = String(state.runs);
      document.getElementById("command").textContent = result.command;
      scheduleLoops(body);
      document.getElementById("status").textContent =
        `${result.engine} engine: model ${(1000 * result.seconds).toFixed(0)} ms, redrawn in ${ms.toFixed(0)} ms` +
        (result.status === "diverged" ? ` — diverged at ${result.diverged_at}` : "");
    }
  } catch (err) {
    showError("could not reach the Tokenworld server: " + err);
  } finally {
    state.inFlight = false;
    if (state.pending) runPending();
  }
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

function resetControls() {
  buildLevers(state.meta);
  buildUncertainties(state.meta);
  schedule();
}

async function start() {
  const response = await fetch("/api/meta");
  state.meta = await response.json();
  const picker = document.getElementById("scenario");
  for (const s of state.meta.scenarios) picker.append(el("option", { value: s.name, textContent: s.name, selected: s.name === "baseline" }));
  const describe = () => {
    const s = state.meta.scenarios.find((x) => x.name === picker.value);
    document.getElementById("scenario-description").textContent = s ? s.description : "";
  };
  picker.addEventListener("change", () => { describe(); resetControls(); });
  document.getElementById("reset").addEventListener("click", resetControls);
  document.getElementById("download").addEventListener("click", download);
  describe();
  buildCharts(state.meta);
  resetControls();
}

start();
