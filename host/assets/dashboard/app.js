// Sluice dashboard. Plain JS, no libraries, no build step.
//
// Everything rendered from the API (log lines above all) is
// attacker-controlled: it only ever reaches the page through textContent
// and DOM nodes, never as HTML.
"use strict";

const KEY_STORAGE = "sluice.key";
const TAIL_ROWS = 500;

const $ = (id) => document.getElementById(id);

function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

// One API call: JSON in, JSON out, the key as a bearer token.
async function api(method, path, body) {
  const headers = { Authorization: "Bearer " + apiKey() };
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let json = null;
  try {
    json = await response.json();
  } catch (_) {
    json = null;
  }
  if (!response.ok) {
    const message = json && json.error && (json.error.message || json.error);
    const error = new Error(typeof message === "string" ? message : response.status + " " + response.statusText);
    error.status = response.status;
    throw error;
  }
  return json;
}

function showError(error) {
  $("error").textContent = error ? String(error.message || error) : "";
  if (error && error.status === 401) signOut();
}

// A table cell holding text only.
function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  return td;
}

function eventRow(event) {
  const tr = document.createElement("tr");
  tr.className = "event level-" + (["trace", "debug", "info", "warn", "error", "fatal"].includes(event.level) ? event.level : "none");
  tr.append(
    cell(event.timestamp || event.received),
    cell(event.level),
    cell(event.service),
    cell(event.message, "message"),
  );
  tr.title = event.id || "";
  return tr;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, value);
  }
  const text = search.toString();
  return text ? "?" + text : "";
}

// A datetime-local value (the browser's local time) as RFC 3339.
function rfc3339(local) {
  if (!local) return "";
  const date = new Date(local);
  return isNaN(date.getTime()) ? "" : date.toISOString();
}

// ---- sign in ----

async function signIn(key) {
  sessionStorage.setItem(KEY_STORAGE, key);
  try {
    const pipelines = await api("GET", "/v1/pipelines");
    $("tenant").textContent = "tenant " + pipelines.tenant;
  } catch (error) {
    sessionStorage.removeItem(KEY_STORAGE);
    $("sign-in-error").textContent = error.status === 401 ? "That key is unknown or revoked." : String(error.message);
    return;
  }
  $("sign-in-error").textContent = "";
  $("sign-in").hidden = true;
  $("app").hidden = false;
  $("sign-out").hidden = false;
  searchLogs(false);
}

function signOut() {
  stopTail();
  sessionStorage.removeItem(KEY_STORAGE);
  $("app").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("tenant").textContent = "";
  $("api-key").value = "";
}

// ---- tabs ----

function showTab(name) {
  for (const button of document.querySelectorAll("nav button")) {
    button.classList.toggle("active", button.dataset.tab === name);
  }
  for (const section of document.querySelectorAll(".tab")) {
    section.hidden = section.id !== "tab-" + name;
  }
  showError(null);
  if (name === "incidents") loadIncidents();
  if (name === "charts") loadCharts();
  if (name === "pipelines") loadPipelines();
}

// ---- log search ----

let searchCursor = null;
let searchShown = 0;

async function searchLogs(more) {
  const params = {
    service: $("search-service").value.trim(),
    level: $("search-level").value,
    q: $("search-q").value.trim(),
    since: rfc3339($("search-since").value),
    until: rfc3339($("search-until").value),
    cursor: more ? searchCursor : "",
  };
  try {
    const page = await api("GET", "/v1/logs" + query(params));
    const body = $("search-results");
    if (!more) {
      body.replaceChildren();
      searchShown = 0;
    }
    for (const event of page.events) body.append(eventRow(event));
    searchShown += page.events.length;
    searchCursor = page.next_cursor;
    $("search-more").hidden = !searchCursor;
    $("search-count").textContent = searchShown + (searchShown === 1 ? " event" : " events");
    showError(null);
  } catch (error) {
    showError(error);
  }
}

// ---- live tail ----

let tailSocket = null;

function startTail() {
  stopTail();
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const params = {
    service: $("tail-service").value.trim(),
    level: $("tail-level").value,
    q: $("tail-q").value.trim(),
  };
  // Browsers cannot set headers on a WebSocket: the key travels as the
  // subprotocol, never in the URL (URLs get logged).
  const socket = new WebSocket(scheme + "//" + location.host + "/v1/tail" + query(params), ["sluice.key." + apiKey()]);
  tailSocket = socket;
  $("tail-status").textContent = "connecting";
  $("tail-start").disabled = true;
  $("tail-stop").disabled = false;
  socket.onopen = () => {
    if (tailSocket === socket) $("tail-status").textContent = "live";
  };
  socket.onmessage = (message) => {
    let data;
    try {
      data = JSON.parse(message.data);
    } catch (_) {
      return;
    }
    const body = $("tail-events");
    if (data.type === "event" && data.event) {
      body.prepend(eventRow(data.event));
    } else if (data.type === "dropped") {
      const tr = document.createElement("tr");
      tr.className = "dropped";
      const td = cell(data.count + " events dropped: this page read slower than they arrived");
      td.colSpan = 4;
      tr.append(td);
      body.prepend(tr);
    }
    while (body.children.length > TAIL_ROWS) body.lastChild.remove();
  };
  socket.onclose = () => {
    if (tailSocket !== socket) return;
    tailSocket = null;
    $("tail-status").textContent = "stopped";
    $("tail-start").disabled = false;
    $("tail-stop").disabled = true;
  };
}

function stopTail() {
  if (tailSocket) {
    const socket = tailSocket;
    tailSocket = null;
    socket.close();
  }
  $("tail-status").textContent = "stopped";
  $("tail-start").disabled = false;
  $("tail-stop").disabled = true;
}

// ---- incidents ----

async function loadIncidents() {
  try {
    const page = await api("GET", "/v1/incidents" + query({ status: $("incident-status").value }));
    const body = $("incidents");
    body.replaceChildren();
    for (const incident of page.incidents) body.append(incidentRow(incident));
    showError(null);
  } catch (error) {
    showError(error);
  }
}

function incidentRow(incident) {
  const tr = document.createElement("tr");
  tr.className = "incident status-" + (["open", "acknowledged", "resolved"].includes(incident.status) ? incident.status : "none");
  tr.dataset.id = incident.id;
  tr.append(
    cell(incident.title),
    cell(incident.service),
    cell(incident.severity),
    cell(incident.count),
    cell(incident.last_seen),
    cell(incident.status, "status"),
    cell(incident.assignee, "assignee"),
  );
  const actions = document.createElement("td");
  const patch = async (body) => {
    try {
      const updated = await api("PATCH", "/v1/incidents/" + encodeURIComponent(incident.id), body);
      tr.replaceWith(incidentRow(updated));
      showError(null);
    } catch (error) {
      showError(error);
    }
  };
  const button = (label, action) => {
    const b = document.createElement("button");
    b.textContent = label;
    b.className = "action-" + label.toLowerCase();
    b.addEventListener("click", action);
    actions.append(b);
  };
  if (incident.status === "open") button("Acknowledge", () => patch({ status: "acknowledged" }));
  if (incident.status !== "resolved") button("Resolve", () => patch({ status: "resolved" }));
  if (incident.status === "resolved") button("Reopen", () => patch({ status: "open" }));
  const assignee = document.createElement("input");
  assignee.placeholder = "assignee";
  assignee.className = "assignee-input";
  assignee.value = incident.assignee || "";
  actions.append(assignee);
  button("Assign", () => patch({ assignee: assignee.value.trim() || null }));
  tr.append(actions);
  return tr;
}

// ---- charts ----

const SVG = "http://www.w3.org/2000/svg";

function svgNode(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

function svgText(x, y, text, anchor) {
  const node = svgNode("text", { x, y, "text-anchor": anchor || "start" });
  node.textContent = text;
  return node;
}

// Bars over time, each bucket at its place between `since` and `until`
// (the API leaves out empty buckets, so position comes from `start`).
function timeChart(container, overview, value, format, className) {
  const width = 800, height = 180, left = 50, bottom = 20, top = 10;
  const since = Date.parse(overview.since), until = Date.parse(overview.until);
  const span = Math.max(until - since, 1);
  const plot = width - left;
  const bucketWidth = Math.max((overview.bucket_seconds * 1000 / span) * plot - 1, 1);
  const values = overview.buckets.map(value);
  const max = Math.max(...values, 0) || 1;
  const svg = svgNode("svg", { viewBox: `0 0 ${width} ${height}`, class: className, role: "img" });
  svg.append(svgNode("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, class: "axis" }));
  overview.buckets.forEach((bucket, i) => {
    const start = Date.parse(bucket.start);
    const x = left + Math.max(((start - since) / span) * plot, 0);
    const h = (values[i] / max) * (height - bottom - top);
    const bar = svgNode("rect", { x, y: height - bottom - h, width: Math.min(bucketWidth, width - x), height: h });
    const title = svgNode("title", {});
    title.textContent = bucket.start + ": " + format(values[i]);
    bar.append(title);
    svg.append(bar);
  });
  svg.append(
    svgText(left - 4, top + 10, format(max), "end"),
    svgText(left - 4, height - bottom, format(0), "end"),
    svgText(left, height - 4, new Date(since).toLocaleString()),
    svgText(width, height - 4, new Date(until).toLocaleString(), "end"),
  );
  container.replaceChildren(svg);
}

// One row per service: total volume, errors, error rate.
function serviceChart(container, services) {
  const rowHeight = 22, left = 160, width = 800;
  const height = Math.max(services.length, 1) * rowHeight + 10;
  const max = Math.max(...services.map((s) => s.total), 0) || 1;
  const svg = svgNode("svg", { viewBox: `0 0 ${width} ${height}`, class: "services", role: "img" });
  services.forEach((service, i) => {
    const y = i * rowHeight + 5;
    const scale = (width - left - 200) / max;
    const rate = service.total ? service.errors / service.total : 0;
    svg.append(
      svgText(left - 6, y + 14, service.service || "(none)", "end"),
      svgNode("rect", { x: left, y, width: Math.max(service.total * scale, 1), height: rowHeight - 6, class: "total" }),
      svgNode("rect", { x: left, y, width: service.errors * scale, height: rowHeight - 6, class: "errors" }),
      svgText(left + service.total * scale + 6, y + 14, `${service.total} events, ${service.errors} errors (${(rate * 100).toFixed(1)}%)`),
    );
  });
  container.replaceChildren(svg);
}

// One line per service (the busiest few) over time: volume or error rate
// per bucket, with a legend. Colours cycle through a fixed palette.
const PALETTE = ["#3b6fd8", "#d83b4f", "#2f9e6e", "#c7862b", "#7d4cc9", "#4b5563"];

function serviceTimeChart(container, overview, value, format, className) {
  const width = 800, height = 200, left = 50, bottom = 20, top = 10, legend = 130;
  const since = Date.parse(overview.since), until = Date.parse(overview.until);
  const span = Math.max(until - since, 1);
  const plot = width - left - legend;
  const names = overview.services.slice(0, PALETTE.length).map((s) => s.service);
  const series = names.map((name) => overview.service_buckets.filter((b) => b.service === name));
  const max = Math.max(...series.flat().map(value), 0) || 1;
  const svg = svgNode("svg", { viewBox: `0 0 ${width} ${height}`, class: className, role: "img" });
  svg.append(svgNode("line", { x1: left, y1: height - bottom, x2: left + plot, y2: height - bottom, class: "axis" }));
  series.forEach((buckets, i) => {
    const colour = PALETTE[i];
    const points = buckets.map((b) => {
      const x = left + Math.max(((Date.parse(b.start) - since) / span) * plot, 0);
      const y = height - bottom - (value(b) / max) * (height - bottom - top);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    });
    const line = svgNode("polyline", { points: points.join(" "), fill: "none", stroke: colour, "stroke-width": 2, class: "series" });
    const title = svgNode("title", {});
    title.textContent = names[i] || "(none)";
    line.append(title);
    svg.append(line);
    const label = svgText(left + plot + 16, top + 12 + i * 16, names[i] || "(none)");
    label.setAttribute("class", "legend");
    label.setAttribute("fill", colour);
    svg.append(label);
  });
  svg.append(
    svgText(left - 4, top + 10, format(max), "end"),
    svgText(left - 4, height - bottom, format(0), "end"),
    svgText(left, height - 4, new Date(since).toLocaleString()),
    svgText(left + plot, height - 4, new Date(until).toLocaleString(), "end"),
  );
  container.replaceChildren(svg);
}

async function loadCharts() {
  const range = Number($("charts-range").value) || 86400;
  const until = new Date();
  const since = new Date(until.getTime() - range * 1000);
  const bucket = Math.max(Math.round(range / 60), 1);
  try {
    const overview = await api("GET", "/v1/metrics/overview" + query({
      since: since.toISOString(), until: until.toISOString(), bucket_seconds: bucket,
    }));
    timeChart($("chart-volume"), overview, (b) => b.total, (v) => String(Math.round(v)), "volume");
    timeChart($("chart-errors"), overview, (b) => b.error_rate, (v) => (v * 100).toFixed(1) + "%", "error-rate");
    serviceChart($("chart-services"), overview.services);
    serviceTimeChart($("chart-service-volume"), overview, (b) => b.total, (v) => String(Math.round(v)), "service-volume");
    serviceTimeChart($("chart-service-errors"), overview, (b) => b.error_rate, (v) => (v * 100).toFixed(1) + "%", "service-errors");
    $("charts-summary").textContent = `${overview.total} events, ${overview.errors} errors (${(overview.error_rate * 100).toFixed(1)}%)`;
    showError(null);
  } catch (error) {
    showError(error);
  }
}

// ---- pipelines and dead letters ----

async function loadPipelines() {
  try {
    const [pipelines, letters] = await Promise.all([
      api("GET", "/v1/pipelines"),
      api("GET", "/v1/dead-letters"),
    ]);
    const serving = pipelines.serving;
    const dl = $("pipeline-serving");
    dl.replaceChildren();
    const entry = (name, value) => {
      const dt = document.createElement("dt");
      dt.textContent = name;
      const dd = document.createElement("dd");
      dd.textContent = value === null || value === undefined ? "" : String(value);
      dl.append(dt, dd);
    };
    if (serving) {
      entry("name", serving.name);
      entry("version", serving.version);
      entry("published", serving.published);
      entry("file", serving.file);
    } else {
      entry("name", "no pipeline serves this tenant");
    }
    const steps = $("pipeline-steps");
    steps.replaceChildren();
    for (const step of serving ? serving.steps : []) {
      const tr = document.createElement("tr");
      tr.append(cell(step.name), cell(step.plugin), cell(step.plugin_version), cell(step.memory_mb), cell(step.timeout_ms));
      steps.append(tr);
    }
    const history = $("pipeline-history");
    history.replaceChildren();
    for (const version of pipelines.history) {
      const tr = document.createElement("tr");
      tr.append(cell(version.version), cell(version.published), cell(version.restores));
      history.append(tr);
    }
    $("dead-letter-count").textContent = String(pipelines.dead_letters);
    const body = $("dead-letters");
    body.replaceChildren();
    for (const letter of letters.dead_letters) {
      const tr = document.createElement("tr");
      tr.append(cell(letter.step), cell(letter.error), cell(letter.failed_at));
      body.append(tr);
    }
    showError(null);
  } catch (error) {
    showError(error);
  }
}

// ---- wiring ----

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in-form").addEventListener("submit", (e) => {
    e.preventDefault();
    signIn($("api-key").value.trim());
  });
  $("sign-out").addEventListener("click", signOut);
  for (const button of document.querySelectorAll("nav button")) {
    button.addEventListener("click", () => showTab(button.dataset.tab));
  }
  $("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    searchLogs(false);
  });
  $("search-more").addEventListener("click", () => searchLogs(true));
  $("tail-form").addEventListener("submit", (e) => {
    e.preventDefault();
    startTail();
  });
  $("tail-stop").addEventListener("click", stopTail);
  $("incident-status").addEventListener("change", loadIncidents);
  $("incidents-refresh").addEventListener("click", loadIncidents);
  $("charts-form").addEventListener("submit", (e) => {
    e.preventDefault();
    loadCharts();
  });
  const key = apiKey();
  if (key) signIn(key);
});
