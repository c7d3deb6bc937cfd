/* streamwise live dashboard.
 *
 * Polls the API's own JSON endpoints (GET /readyz, /models, /profile, /devices/silent) and
 * draws them; no library, no request to another origin. The charts' history is kept here, in
 * the page: the last KEEP polls per model.
 *
 * Every value shown carries data-* attributes, so that tests and scripts can read what is
 * displayed: a card is [data-model=ID]; its scalars are [data-field=NAME] with the raw value in
 * data-value; metric cells are [data-metric=NAME][data-window=rolling|cumulative|...];
 * candidate cells add data-candidate; each chart <svg data-chart=...> has data-points.
 * document.body.dataset.polls counts the successful polls.
 *
 * Query parameters: ?interval=SECONDS between polls (default 1).
 */
"use strict";

(() => {
  const params = new URLSearchParams(location.search);
  const INTERVAL_S = Math.min(60, Math.max(0.2, Number(params.get("interval")) || 1));
  const KEEP = 300; // points per chart: 5 minutes at the default interval
  const RATE_WINDOW_S = 10; // throughput: over the snapshots of the last 10 s
  const STALE_S = 10; // no new snapshot for this long: nothing is being learned
  const REQUEST_TIMEOUT_MS = 5000;
  // Errors and losses: their success threshold is an upper bound; for scores, a lower bound.
  // tests/api/test_dashboard.py checks this list against River's `bigger_is_better`.
  const LOWER_IS_BETTER = new Set(["CrossEntropy", "LogLoss", "MAE", "MSE", "RMSE", "SMAPE"]);
  const WINDOW_ORDER = ["rolling", "cumulative", "holdout"];
  // Column titles for the candidates' known fields; other fields show under their own name.
  const SHORT = {
    events_learned: "learned",
    started_at: "since",
    drifts: "drifts",
    ahead: "ahead",
  };
  const SVG = "http://www.w3.org/2000/svg"; // an XML namespace name, never fetched

  const state = new Map(); // model_id -> {card, history, snaps, rate, metric, info, extras}
  let polls = 0;
  let paused = false;
  let running = false; // a poll is in flight
  let timer = null; // the next poll, when one is scheduled

  // -- formatting -----------------------------------------------------------------------------
  const isNum = (v) => typeof v === "number" && !Number.isNaN(v);
  const label = (key) => key.replaceAll("_", " ");
  // A forecaster's per-step metrics are named MAE@1, MAE@2, ...: they go the way MAE goes.
  const baseName = (metric) => metric.split("@")[0];
  const lowerIsBetter = (metric) => LOWER_IS_BETTER.has(baseName(metric));
  const bound = (metric) => (lowerIsBetter(metric) ? "≤" : "≥");

  function fmtInt(v) {
    return isNum(v) ? Math.round(v).toLocaleString("en-US") : "—";
  }

  /** A metric: about four significant digits, thousands grouped. */
  function fmtNum(v) {
    if (!isNum(v)) return "—";
    if (!Number.isFinite(v)) return v > 0 ? "∞" : "-∞";
    const a = Math.abs(v);
    if (a >= 1000) return v.toLocaleString("en-US", { maximumFractionDigits: 0 });
    if (a >= 100) return v.toFixed(1);
    if (a >= 10) return v.toFixed(2);
    if (a === 0 || a >= 0.001) return v.toFixed(4);
    return v.toExponential(2);
  }

  /** A statistic of the stream profile: one digit fewer than a metric. */
  function fmtStat(v) {
    if (!isNum(v) || !Number.isFinite(v)) return fmtNum(v);
    const a = Math.abs(v);
    if (a === 0) return "0";
    if (a >= 1000 || a < 0.001) return fmtNum(v);
    return v.toFixed(a >= 100 ? 1 : a >= 10 ? 2 : 3);
  }

  /** A configured number (threshold, margin): as written, no padding zeros. */
  function fmtPlain(v) {
    return isNum(v) ? v.toLocaleString("en-US", { maximumFractionDigits: 6 }) : "—";
  }

  function fmtRate(v) {
    if (!isNum(v)) return "—";
    return v >= 100 ? fmtInt(v) : v.toFixed(1);
  }

  /** An axis label: as many decimals as the step between ticks needs. */
  function fmtTick(v, step) {
    const decimals = Math.min(6, Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
    return v.toLocaleString("en-US", {
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
    });
  }

  function fmtAge(s) {
    if (!isNum(s)) return "—";
    s = Math.max(0, s);
    if (s < 10) return `${s.toFixed(1)} s`;
    if (s < 60) return `${Math.round(s)} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, "0")}s`;
    const h = Math.floor(m / 60);
    if (h < 24) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
    return `${Math.floor(h / 24)}d ${h % 24}h`;
  }

  /** Local time of day; the date too when it is not today. */
  function fmtTime(ts) {
    if (!isNum(ts)) return "—";
    const d = new Date(ts * 1000);
    const time = d.toLocaleTimeString("en-GB", { hour12: false });
    const today = new Date().toDateString() === d.toDateString();
    return today ? time : `${d.toISOString().slice(0, 10)} ${time}`;
  }

  function fmtAny(v) {
    if (v === null || v === undefined) return "—";
    if (typeof v === "number") return Number.isInteger(v) ? fmtInt(v) : fmtNum(v);
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }

  // -- DOM helpers ----------------------------------------------------------------------------
  /** An element with attributes (data-* included) and children; strings become text. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function svgEl(tag, attrs = {}, text = null) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== null) node.textContent = text;
    return node;
  }

  /** Show ``text`` in a card's [data-field=name]; keep the raw value in data-value. */
  function setField(card, name, text, value) {
    const node = card.querySelector(`[data-field="${name}"]`);
    if (!node) return null;
    node.textContent = text;
    if (value !== undefined) node.dataset.value = value === null ? "" : String(value);
    return node;
  }

  function setTone(node, tone) {
    if (!node) return;
    node.classList.remove("ok", "warn", "bad");
    if (tone) node.classList.add(tone);
  }

  const part = (card, name) => card.querySelector(`[data-part="${name}"]`);

  /** A table cell holding a number: the raw value in data-value, formatted as text. */
  function numCell(attrs, value, text) {
    return el("td", { class: "num", ...attrs, "data-value": value ?? "" }, text);
  }

  // -- polling --------------------------------------------------------------------------------
  async function getJSON(path) {
    const ctrl = new AbortController();
    const timeout = setTimeout(() => ctrl.abort(), REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch(path, {
        signal: ctrl.signal,
        cache: "no-store",
        headers: { accept: "application/json" },
      });
      const body = await response.json().catch(() => null);
      return { ok: response.ok, status: response.status, body };
    } finally {
      clearTimeout(timeout);
    }
  }

  async function poll() {
    const [ready, models] = await Promise.all([getJSON("readyz"), getJSON("models")]);
    if (!models.ok || !Array.isArray(models.body)) {
      throw new Error(`GET /models answered HTTP ${models.status}`);
    }
    const extras = await Promise.all(
      models.body.map(async (info) => {
        const q = encodeURIComponent(info.model_id);
        const [profile, silent] = await Promise.all([
          getJSON(`profile?model=${q}`),
          getJSON(`devices/silent?model=${q}`),
        ]);
        return {
          profile: profile.ok ? profile.body : null,
          silent: silent.ok ? silent.body : null,
        };
      }),
    );
    return { ready, models: models.body, extras };
  }

  async function tick() {
    timer = null;
    running = true;
    const started = performance.now();
    try {
      const result = await poll();
      const now = Date.now() / 1000;
      renderTop(result.ready, now);
      renderModels(result.models, result.extras, now);
      polls += 1;
      document.body.dataset.polls = String(polls);
      showError(null);
    } catch (err) {
      showError(err);
      const now = Date.now() / 1000;
      state.forEach((entry) => renderAges(entry, now)); // ages keep growing while cut off
    } finally {
      running = false;
      if (!paused) {
        const wait = Math.max(50, INTERVAL_S * 1000 - (performance.now() - started));
        timer = setTimeout(tick, wait);
      }
    }
  }

  // -- top bar --------------------------------------------------------------------------------
  function showError(err) {
    const node = document.getElementById("error");
    node.hidden = !err;
    node.textContent = err ? `API unreachable: ${err.message || err}` : "";
    document.body.classList.toggle("stale", Boolean(err));
  }

  function renderTop(ready, now) {
    const body = ready.body || {};
    const readyNode = document.getElementById("ready");
    readyNode.textContent = body.status || `HTTP ${ready.status}`;
    readyNode.dataset.value = body.status || "";
    readyNode.title = body.detail || "";
    setTone(readyNode, ready.ok ? "ok" : "warn");
    const store = document.getElementById("store");
    store.hidden = !body.store;
    store.textContent = `store ${body.store}`;
    setTone(store, body.store === "ok" ? "ok" : "bad");
    document.getElementById("updated").textContent = fmtTime(now);
    document.getElementById("empty-detail").textContent = body.detail || "";
  }

  // -- models ---------------------------------------------------------------------------------
  function cardFor(info) {
    let entry = state.get(info.model_id);
    if (entry) return entry;
    const template = document.getElementById("card-template");
    const card = template.content.firstElementChild.cloneNode(true);
    card.dataset.model = info.model_id;
    entry = {
      card,
      history: [],
      snaps: [],
      rate: null,
      metric: null, // the metric clicked, for the big chart
      showSteps: false,
      info: null,
      extras: null,
    };
    part(card, "metrics-body").addEventListener("click", (event) => {
      const row = event.target.closest("tr[data-metric]");
      if (row) entry.metric = row.dataset.metric;
      else if (event.target.closest('[data-action="steps"]')) entry.showSteps = !entry.showSteps;
      else return;
      renderMetrics(entry);
      drawCharts(entry);
    });
    state.set(info.model_id, entry);
    return entry;
  }

  function renderModels(models, extras, now) {
    const container = document.getElementById("models");
    const seen = new Set();
    models.forEach((info, i) => {
      const entry = cardFor(info);
      seen.add(info.model_id);
      entry.info = info;
      entry.extras = extras[i];
      record(entry, info, now);
      renderCard(entry, now);
      if (container.children[i] !== entry.card) {
        container.insertBefore(entry.card, container.children[i] || null);
      }
    });
    for (const [id, entry] of state) {
      if (!seen.has(id)) {
        entry.card.remove();
        state.delete(id);
      }
    }
    document.getElementById("empty").hidden = models.length > 0;
  }

  /** Add this poll to the model's history, and work out its throughput. */
  function record(entry, info, now) {
    const snaps = entry.snaps;
    const last = snaps[snaps.length - 1];
    if (!last || last.version !== info.version) {
      if (last && info.events_learned < last.learned) snaps.length = 0; // the model was reset
      snaps.push({
        version: info.version,
        created: info.snapshot_created_at,
        learned: info.events_learned,
      });
      const oldest = info.snapshot_created_at - RATE_WINDOW_S;
      while (snaps.length > 2 && snaps[1].created < oldest) snaps.shift();
    }
    entry.rate = throughput(snaps, now);
    // Before the first event is learned, River's metrics read 0: no point to draw yet.
    const scored = info.events_learned > 0;
    const candidates = {};
    for (const [name, c] of Object.entries((scored && info.candidates) || {})) {
      candidates[name] = (c && c.metrics) || {};
    }
    const metrics = (scored && info.metrics) || {};
    entry.history.push({ t: now, rate: entry.rate, metrics, candidates });
    if (entry.history.length > KEEP) entry.history.splice(0, entry.history.length - KEEP);
  }

  /** Events learned per second between the snapshots of the last RATE_WINDOW_S seconds. */
  function throughput(snaps, now) {
    const latest = snaps[snaps.length - 1];
    if (now - latest.created > STALE_S) return 0; // nothing checkpointed lately: nothing learned
    const base =
      snaps.find((s) => s !== latest && s.created >= latest.created - RATE_WINDOW_S) ||
      snaps[snaps.length - 2];
    if (!base || latest.created <= base.created) return null;
    return (latest.learned - base.learned) / (latest.created - base.created);
  }

  function freshnessTone(age) {
    if (!isNum(age)) return null;
    if (age <= Math.max(5, 3 * INTERVAL_S)) return "ok";
    return age <= 30 ? "warn" : "bad";
  }

  /** A model's metric windows that hold values, known ones first: rolling, cumulative, holdout. */
  function windowsOf(metrics) {
    const names = Object.keys(metrics || {}).filter((w) => Object.keys(metrics[w] || {}).length);
    return [
      ...WINDOW_ORDER.filter((w) => names.includes(w)),
      ...names.filter((w) => !WINDOW_ORDER.includes(w)),
    ];
  }

  const windowClass = (w) => `w-${WINDOW_ORDER.includes(w) ? w : "other"}`;

  function metricNames(info) {
    const names = [];
    for (const w of windowsOf(info.metrics)) {
      for (const name of Object.keys(info.metrics[w] || {})) {
        if (!names.includes(name)) names.push(name);
      }
    }
    return names;
  }

  function renderCard(entry, now) {
    const { card, info, extras } = entry;
    setField(card, "model_id", info.model_id, info.model_id);
    setField(card, "task", info.task, info.task);
    setField(card, "target", info.target, info.target);
    setField(card, "version", fmtInt(info.version), info.version);
    part(card, "champion").hidden = !info.champion;
    setField(card, "champion", info.champion || "", info.champion ?? null);
    const about = [`digest ${info.spec_digest || "—"}`];
    for (const [k, v] of Object.entries(info.lineage || {})) about.push(`${label(k)} ${fmtAny(v)}`);
    setField(card, "lineage", about.join(" · "));

    setField(card, "events_learned", fmtInt(info.events_learned), info.events_learned);
    setField(card, "events_seen", fmtInt(info.events_seen), info.events_seen);
    const heldOut = info.events_held_out ?? null;
    setField(card, "events_held_out", fmtInt(heldOut), heldOut);
    part(card, "held-out").hidden = !heldOut;
    setField(card, "events_rejected", fmtInt(info.events_rejected), info.events_rejected);
    setField(card, "throughput", fmtRate(entry.rate), entry.rate);
    renderAges(entry, now);

    renderSilent(card, extras.silent);
    renderProfile(card, extras.profile);
    renderMetrics(entry);
    renderCandidates(entry);
    renderLifecycle(card, info.lifecycle);
    drawCharts(entry);
  }

  /** Freshness: how old the served snapshot and its newest event are, now. */
  function renderAges(entry, now) {
    const { card, info } = entry;
    if (!info) return;
    const created = info.snapshot_created_at;
    const snapAge = isNum(created) ? now - created : null;
    setTone(setField(card, "snapshot_age", fmtAge(snapAge), snapAge), freshnessTone(snapAge));
    setField(card, "snapshot_time", `at ${fmtTime(created)}`, created);
    const last = info.last_event_ts;
    const eventAge = isNum(last) ? now - last : null;
    setTone(setField(card, "event_age", fmtAge(eventAge), eventAge), freshnessTone(eventAge));
    setField(card, "event_time", isNum(last) ? `at ${fmtTime(last)}` : "no event yet", last);
  }

  function renderSilent(card, silent) {
    if (!silent) {
      setField(card, "silent_devices", "—", null);
      setField(card, "silence_seconds", "unavailable");
      return;
    }
    const ids = Object.keys(silent.devices || {}).sort();
    const node = setField(card, "silent_devices", fmtInt(ids.length), ids.length);
    node.title = ids.slice(0, 30).join(", ") + (ids.length > 30 ? ", …" : "");
    const monitored = silent.silence_seconds !== null && silent.silence_seconds !== undefined;
    setTone(node, !monitored ? null : ids.length ? "warn" : "ok");
    const text = monitored ? `quiet > ${fmtPlain(silent.silence_seconds)} s` : "not monitored";
    setField(card, "silence_seconds", text, monitored ? silent.silence_seconds : null);
  }

  function renderProfile(card, profile) {
    const rejected = (profile && profile.rejected) || {};
    const total = profile ? Object.values(rejected).reduce((a, b) => a + b, 0) : null;
    setTone(setField(card, "dead_letters", fmtInt(total), total), total ? "warn" : null);
    const readings = profile ? profile.readings : null;
    setField(card, "readings", fmtInt(readings), readings);
    const counts = Object.entries((profile && profile.counts) || {});
    setField(card, "counts", counts.map(([k, v]) => `${k} ${fmtInt(v)}`).join(" · "));

    const chips = Object.entries(rejected)
      .sort((a, b) => b[1] - a[1])
      .map(([reason, n]) =>
        el("span", { class: "chip warn", "data-reason": reason, "data-value": n },
          `${reason} `, el("b", { text: fmtInt(n) })));
    if (!chips.length) chips.push(el("span", { class: "chip ok", text: "none" }));
    part(card, "rejected").replaceChildren(...chips);

    const sensors = Object.entries((profile && profile.sensors) || {});
    const rows = sensors.sort(([a], [b]) => a.localeCompare(b)).map(([name, s]) => {
      const q = s.quantiles || {};
      const cell = (col, v, text) => numCell({ "data-col": col }, v, text);
      const missing = isNum(s.missing_ratio) ? `${(100 * s.missing_ratio).toFixed(1)} %` : "—";
      return el("tr", { "data-sensor": name },
        el("th", { scope: "row", text: name }),
        cell("count", s.count, fmtInt(s.count)),
        cell("missing_ratio", s.missing_ratio, missing),
        cell("non_numeric", s.non_numeric, fmtInt(s.non_numeric)),
        cell("mean", s.mean, fmtStat(s.mean)),
        cell("std", s.std, fmtStat(s.std)),
        cell("min", s.min, fmtStat(s.min)),
        cell("p05", q.p05, fmtStat(q.p05)),
        cell("p50", q.p50, fmtStat(q.p50)),
        cell("p95", q.p95, fmtStat(q.p95)),
        cell("max", s.max, fmtStat(s.max)));
    });
    if (!rows.length) {
      const text = profile ? "no readings profiled yet" : "profile unavailable";
      rows.push(el("tr", {}, el("td", { colspan: 11, class: "muted", text })));
    }
    part(card, "profile-body").replaceChildren(...rows);
  }

  /** Whether ``value`` meets ``threshold`` for ``metric``; null when there is nothing to judge. */
  function meets(metric, value, threshold) {
    if (!isNum(value) || !isNum(threshold)) return null;
    return lowerIsBetter(metric) ? value <= threshold : value >= threshold;
  }

  /** The metric in the big chart: the one clicked, else the selection or a success metric. */
  function chartMetric(entry) {
    const { info } = entry;
    const names = metricNames(info);
    const selection = info.selection && info.selection.metric;
    const wanted = [entry.metric, selection, ...Object.keys(info.success || {})];
    return wanted.find((m) => m && names.includes(m)) || names[0] || null;
  }

  function renderMetrics(entry) {
    const { card, info } = entry;
    const windows = windowsOf(info.metrics);
    const current = windows[0]; // success is judged on it: rolling, when there is one
    const selected = chartMetric(entry);
    part(card, "metrics-head").replaceChildren(
      el("tr", {},
        el("th", { text: "metric" }),
        ...windows.map((w) => el("th", { class: "num", text: w })),
        el("th", { text: `success (${current || "—"})` }),
        el("th", { class: "trend", text: `trend (${current || "—"})` })));
    const names = metricNames(info);
    const steps = names.filter((name) => name.includes("@")); // a forecaster's, per step ahead
    const shown = entry.showSteps ? names : names.filter((name) => !name.includes("@"));
    const rows = shown.map((name) => {
      const threshold = (info.success || {})[name];
      const met = meets(name, current ? info.metrics[current][name] : null, threshold);
      const verdict = met === null ? "unknown" : met ? "met" : "unmet";
      let success = el("span", { class: "muted", text: "—" });
      if (isNum(threshold)) {
        success = el("span", { class: `chip ${met === null ? "" : met ? "ok" : "bad"}` },
          `${bound(name)} ${fmtPlain(threshold)} `,
          el("b", { text: met === null ? "n/a" : met ? "met" : "not met" }));
      }
      return el("tr", {
        "data-metric": name,
        "data-success": isNum(threshold) ? verdict : "none",
        class: name === selected ? "selected" : "",
        title: "click: show this metric in the chart",
      },
        el("th", { scope: "row", text: name }),
        ...windows.map((w) => {
          const v = (info.metrics[w] || {})[name];
          return numCell({ "data-metric": name, "data-window": w }, v, fmtNum(v));
        }),
        el("td", {}, success),
        el("td", { class: "trend" },
          svgEl("svg", { class: "spark", "data-chart": "spark", "data-metric": name })));
    });
    if (steps.length) {
      const text = `${entry.showSteps ? "hide" : "show"} the ${steps.length} per-step metrics`;
      const button = el("button", { type: "button", "data-action": "steps", text });
      rows.push(el("tr", {}, el("td", { colspan: windows.length + 3 }, button)));
    }
    part(card, "metrics-body").replaceChildren(...rows);
  }

  function renderCandidates(entry) {
    const { card, info } = entry;
    const candidates = (typeof info.candidates === "object" && info.candidates) || {};
    const names = Object.keys(candidates);
    // A single candidate is the model itself: its metrics are in the table above already.
    part(card, "candidates").hidden = names.length < 2;
    if (names.length < 2) return;
    const sel = info.selection;
    setField(card, "selection", sel
      ? `· selection on ${sel.metric}: a challenger ahead by ${fmtPlain(sel.margin)} for ` +
        `${fmtInt(sel.min_events)} events ${sel.auto ? "is promoted" : "may be promoted by hand"}`
      : "");

    const known = Object.keys(SHORT);
    const rank = (k) => (known.includes(k) ? known.indexOf(k) : known.length);
    const scalars = [];
    for (const c of Object.values(candidates)) {
      for (const [k, v] of Object.entries(c || {})) {
        if (k === "champion" || k === "metrics" || scalars.includes(k)) continue;
        if (v === null || typeof v !== "object") scalars.push(k);
      }
    }
    scalars.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    const metrics = metricNames(info).filter((m) => !m.includes("@"));
    const shownWindow = windowsOf(info.metrics)[0]; // the window success is judged on
    const valuesOf = (name) => ((candidates[name] || {}).metrics || {})[shownWindow] || {};
    const best = {};
    for (const m of metrics) {
      const values = names.map((n) => valuesOf(n)[m]).filter(isNum);
      if (values.length > 1) best[m] = lowerIsBetter(m) ? Math.min(...values) : Math.max(...values);
    }
    part(card, "candidates-head").replaceChildren(
      el("tr", {},
        el("th", { text: "candidate" }),
        ...scalars.map((k) => el("th", { class: "num", title: k, text: SHORT[k] || label(k) })),
        ...metrics.map((m) =>
          el("th", { class: "num metric", title: `${shownWindow} ${m}`, text: m }))));

    const isChampion = (name) =>
      (candidates[name] && candidates[name].champion === true) || name === info.champion;
    const rows = names.map((name) => {
      const c = candidates[name] || {};
      const star = isChampion(name)
        ? el("span", { class: "star", title: "champion: answers /predict", text: "★ " })
        : null;
      return el("tr", {
        "data-candidate": name,
        "data-champion": String(isChampion(name)),
        class: isChampion(name) ? "is-champion" : "",
      },
        el("th", { scope: "row" }, star, name),
        ...scalars.map((k) =>
          numCell({ "data-candidate": name, "data-col": k }, c[k], fmtAny(c[k]))),
        ...metrics.map((m) => {
          const v = valuesOf(name)[m];
          const cell = numCell(
            { "data-candidate": name, "data-metric": m, "data-window": shownWindow }, v, fmtNum(v));
          if (isNum(v) && v === best[m]) cell.classList.add("best");
          return cell;
        }));
    });
    part(card, "candidates-body").replaceChildren(...rows);
  }

  function renderLifecycle(card, lifecycle) {
    const events = Array.isArray(lifecycle) ? lifecycle : [];
    part(card, "lifecycle").hidden = events.length === 0;
    const items = events.slice(-12).reverse().map((event) => {
      const { kind, at_event: at, ts, event_ts: eventTs, ...detail } = event || {};
      const when = isNum(ts) ? ts : eventTs;
      return el("li", { "data-kind": kind ?? "" },
        el("span", { class: `kind kind-${kind}`, text: kind ?? "event" }),
        el("span", { class: "at", text: isNum(at) ? `event ${fmtInt(at)}` : "" }),
        el("span", { class: "when muted", text: isNum(when) ? fmtTime(when) : "" }),
        el("span", { class: "detail" },
          ...Object.entries(detail).map(([k, v]) =>
            el("span", { class: "kv" }, `${label(k)} `, el("b", { text: fmtAny(v) })))));
    });
    part(card, "lifecycle-list").replaceChildren(...items);
  }

  // -- charts ---------------------------------------------------------------------------------
  function niceStep(span) {
    const raw = span / 4;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const n = raw / mag;
    return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag;
  }

  /**
   * A line chart in an <svg>: series [{name, cls, points: [[t, v], ...]}] on a time axis, an
   * optional dashed threshold line, y ticks and the time span. ``spark``: the lines only.
   * A non-finite value breaks its line. data-points: the longest series' number of points.
   */
  function drawChart(svg, series, { threshold = null, spark = false, zero = false } = {}) {
    const w = Math.max(40, svg.clientWidth || 300);
    const h = Math.max(16, svg.clientHeight || 120);
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    svg.dataset.points = String(Math.max(0, ...series.map((s) => s.points.length)));
    const pad = spark ? { l: 1, r: 3, t: 3, b: 3 } : { l: 46, r: 12, t: 8, b: 18 };
    const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p[1]));
    const hasThreshold = isNum(threshold) && Number.isFinite(threshold);
    const nodes = [];
    if (!all.length) {
      if (!spark) {
        const at = { x: w / 2, y: h / 2, class: "tick", "text-anchor": "middle" };
        nodes.push(svgEl("text", at, "waiting for data…"));
      }
      svg.replaceChildren(...nodes);
      return;
    }
    const t1 = Math.max(...all.map((p) => p[0]));
    const t0 = Math.min(t1 - 1, ...all.map((p) => p[0]));
    const values = all.map((p) => p[1]);
    if (hasThreshold) values.push(threshold);
    if (zero) values.push(0);
    let lo = Math.min(...values);
    let hi = Math.max(...values);
    if (hi - lo < 1e-12) {
      const d = Math.abs(hi) * 0.05 || 1;
      lo -= d;
      hi += d;
    }
    const margin = (hi - lo) * 0.08;
    lo = zero && lo >= 0 ? 0 : lo - margin;
    hi += margin;
    const x = (t) => pad.l + ((t - t0) / (t1 - t0)) * (w - pad.l - pad.r);
    const y = (v) => pad.t + (1 - (v - lo) / (hi - lo)) * (h - pad.t - pad.b);
    const hline = (v, cls) =>
      svgEl("line", { x1: pad.l, x2: w - pad.r, y1: y(v), y2: y(v), class: cls });

    if (!spark) {
      const step = niceStep(hi - lo);
      for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) {
        const at = { x: pad.l - 6, y: y(v) + 3.5, class: "tick", "text-anchor": "end" };
        const text = fmtTick(Math.abs(v) < step / 1e6 ? 0 : v, step); // no "-0.0"
        nodes.push(hline(v, "grid-line"), svgEl("text", at, text));
      }
      nodes.push(
        svgEl("text", { x: pad.l, y: h - 4, class: "tick" }, `${fmtAge(t1 - t0)} ago`),
        svgEl("text", { x: w - pad.r, y: h - 4, class: "tick", "text-anchor": "end" }, "now"));
    }
    if (hasThreshold) nodes.push(hline(threshold, "threshold"));
    for (const s of series) {
      let d = "";
      let pen = "M";
      for (const [t, v] of s.points) {
        if (!Number.isFinite(v)) {
          pen = "M";
          continue;
        }
        d += `${pen}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
        pen = "L";
      }
      if (!d) continue;
      const path = svgEl("path", { d, class: `line ${s.cls}` });
      path.append(svgEl("title", {}, s.name));
      nodes.push(path);
      const last = [...s.points].reverse().find((p) => Number.isFinite(p[1]));
      if (last && !spark) {
        const dot = { cx: x(last[0]), cy: y(last[1]), r: 2.5, class: `dot ${s.cls}` };
        nodes.push(svgEl("circle", dot));
      }
    }
    svg.replaceChildren(...nodes);
  }

  /** [[t, value], ...] of a history; a missing value becomes NaN, which breaks the line. */
  function seriesOf(history, pick) {
    return history.map((p) => {
      const v = pick(p);
      return [p.t, isNum(v) ? v : NaN];
    });
  }

  function drawCharts(entry) {
    const { card, info, history } = entry;
    const metric = chartMetric(entry);
    const windows = windowsOf(info.metrics);
    const current = windows[0];
    const valueOf = (p, w, name) => ((p.metrics || {})[w] || {})[name];
    const series = windows.map((w) => ({
      name: `${w} ${metric}`,
      cls: windowClass(w),
      points: seriesOf(history, (p) => valueOf(p, w, metric)),
    }));
    const names = Object.keys(info.candidates || {});
    if (names.length > 1) {
      // The champion's line is the model's own; each challenger gets a dashed one.
      names.filter((n) => n !== info.champion).forEach((name, i) => series.push({
        name: `${name} (${current})`,
        cls: `cand cand-${i % 4}`,
        points: seriesOf(history, (p) => ((p.candidates[name] || {})[current] || {})[metric]),
      }));
    }
    const threshold = (info.success || {})[metric];
    setField(card, "chart_metric", metric || "—", metric);
    drawChart(card.querySelector('svg[data-chart="metric"]'), series, { threshold });
    const key = (cls, text) =>
      el("span", { class: "key" }, el("i", { class: `swatch ${cls}` }), text);
    const legend = series.map((s) => key(s.cls, s.name));
    if (isNum(threshold)) {
      legend.push(key("threshold", `success ${bound(metric)} ${fmtPlain(threshold)}`));
    }
    part(card, "legend").replaceChildren(...legend);

    const rate = {
      name: "events learned / s",
      cls: "rate",
      points: seriesOf(history, (p) => p.rate),
    };
    drawChart(card.querySelector('svg[data-chart="throughput"]'), [rate], { zero: true });

    for (const svg of card.querySelectorAll('svg[data-chart="spark"]')) {
      const name = svg.dataset.metric;
      const line = {
        name: `${current} ${name}`,
        cls: windowClass(current),
        points: seriesOf(history, (p) => valueOf(p, current, name)),
      };
      drawChart(svg, [line], { spark: true, threshold: (info.success || {})[name] });
    }
  }

  // -- start ----------------------------------------------------------------------------------
  function start() {
    document.getElementById("interval").textContent = `${INTERVAL_S} s`;
    const button = document.getElementById("pause");
    button.addEventListener("click", () => {
      paused = !paused;
      button.textContent = paused ? "Resume" : "Pause";
      button.setAttribute("aria-pressed", String(paused));
      document.body.classList.toggle("paused", paused);
      if (paused && timer) {
        clearTimeout(timer);
        timer = null;
      } else if (!paused && !timer && !running) {
        tick();
      }
    });
    let resizing = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizing);
      resizing = setTimeout(() => state.forEach(drawCharts), 150);
    });
    tick();
  }

  start();
})();
