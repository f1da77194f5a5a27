// The cortex fleet dashboard: every two seconds it fetches /cortex/status
// (with the API key kept in localStorage when cortex asks for one) and
// renders the neurons as cards, the models and the recent requests. Every
// value from the fleet is set as text, never as HTML.
"use strict";

const KEY = "cortex.apiKey";
const REFRESH_MS = 2000;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = String(text);
  return e;
}

function ago(iso, now) {
  const t = Date.parse(iso);
  if (!t || t < 0 || iso.startsWith("0001-")) return "never";
  const s = Math.max(0, (now - t) / 1000);
  return s < 60 ? s.toFixed(1) + " s ago" : Math.round(s / 60) + " min ago";
}

function pct(x) { return Math.round((x || 0) * 100) + "%"; }

function gib(n) { return (n / 2 ** 30).toFixed(1) + " GiB"; }

function renderNeurons(st, now) {
  const box = document.getElementById("neurons");
  box.replaceChildren();
  if (st.neurons.length === 0) box.append(el("p", "empty", "No neurons configured."));
  for (const n of st.neurons) {
    const card = el("div", "card neuron" + (n.up ? " up" : ""));
    card.dataset.url = n.url;
    const head = el("div", "head");
    head.append(el("span", "url", n.url), el("span", "badge" + (n.up ? " up" : ""), n.up ? "up" : "down"));
    card.append(head);
    let poll = "last poll " + ago(n.last_poll, now);
    if (n.health && n.health !== "ok") poll += " · " + n.health;
    card.append(el("div", "poll", poll));
    const stats = el("div", "stats");
    const stat = [["in-flight", n.in_flight], ["queue", n.queued], ["KV", pct(n.kv_cache_usage)]];
    // Older neurons do not report their free memory.
    if (n.memory_free_bytes !== undefined) stat.push(["free", gib(n.memory_free_bytes)]);
    for (const [label, v] of stat) {
      const s = el("span", "", label + " ");
      s.append(el("b", label === "in-flight" ? "inflight" : "", v));
      stats.append(s);
    }
    card.append(stats);
    const bar = el("div", "bar");
    const fill = el("div");
    fill.style.width = pct(n.kv_cache_usage);
    bar.append(fill);
    card.append(bar);
    const ul = el("ul", "models");
    for (const m of n.models) {
      const li = el("li");
      // A down neuron's models are what its last good poll said.
      li.append(el("span", "", m.id), el("span", n.up ? "st-" + m.status : "stale", n.up ? m.status : m.status + " (last seen)"));
      ul.append(li);
    }
    if (n.models.length === 0) ul.append(el("li", "empty", "no models"));
    card.append(ul);
    if (n.last_error) card.append(el("div", "lasterr", n.last_error));
    box.append(card);
  }
}

function renderModels(st) {
  const body = document.querySelector("#models tbody");
  body.replaceChildren();
  for (const m of st.models) {
    // A model only loadable (in a neuron's catalog) is served on request.
    const loadable = m.loadable || [];
    const tr = el("tr", m.ready.length || loadable.length ? "" : "bad");
    const others = m.neurons.filter((u) => !m.ready.includes(u));
    tr.append(el("td", "", m.id), el("td", "", m.ready.join(", ") || "-"), el("td", "", others.join(", ") || "-"),
      el("td", "", loadable.join(", ") || "-"));
    body.append(tr);
  }
  if (st.models.length === 0) {
    const tr = el("tr");
    const td = el("td", "empty", "No models.");
    td.colSpan = 4;
    tr.append(td);
    body.append(tr);
  }
}

function renderRecent(st) {
  const body = document.querySelector("#recent tbody");
  body.replaceChildren();
  for (const r of st.recent) {
    const tr = el("tr", r.status >= 400 ? "bad" : "");
    tr.append(
      el("td", "", new Date(r.time).toLocaleTimeString()),
      el("td", "", r.model),
      el("td", "", r.neuron || "-"),
      el("td", "num", r.status),
      el("td", "", r.stream ? "yes" : "no"),
      el("td", "num", r.retries),
      el("td", "num", r.ttfb_ms ? r.ttfb_ms.toFixed(1) + " ms" : "-"),
      el("td", "num", r.duration_ms.toFixed(1) + " ms"),
      el("td", "", r.error || ""),
    );
    body.append(tr);
  }
  if (st.recent.length === 0) {
    const tr = el("tr");
    const td = el("td", "empty", "No requests yet.");
    td.colSpan = 9;
    tr.append(td);
    body.append(tr);
  }
}

function render(st) {
  const now = Date.parse(st.time) || Date.now();
  const up = st.neurons.filter((n) => n.up).length;
  const ready = st.models.filter((m) => m.ready.length > 0).length;
  document.getElementById("summary").textContent =
    up + " of " + st.neurons.length + " neurons up · " + ready + " of " + st.models.length + " models served";
  document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
  renderNeurons(st, now);
  renderModels(st);
  renderRecent(st);
  document.body.dataset.loaded = "true";
}

function showError(msg) {
  const e = document.getElementById("error");
  e.textContent = msg;
  e.hidden = !msg;
}

async function refresh() {
  const key = localStorage.getItem(KEY);
  const headers = key ? { Authorization: "Bearer " + key } : {};
  try {
    const resp = await fetch("/cortex/status", { headers, cache: "no-store" });
    if (resp.status === 401) {
      document.getElementById("keyform").hidden = false;
      showError(key ? "The API key was refused." : "");
      return;
    }
    if (!resp.ok) throw new Error("status " + resp.status);
    document.getElementById("keyform").hidden = true;
    showError("");
    render(await resp.json());
  } catch (err) {
    showError("Cannot reach cortex: " + err.message);
  }
}

document.getElementById("keyform").addEventListener("submit", (ev) => {
  ev.preventDefault();
  localStorage.setItem(KEY, document.getElementById("key").value.trim());
  refresh();
});

refresh();
setInterval(refresh, REFRESH_MS);
