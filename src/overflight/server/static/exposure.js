// overflight exposure page: vanilla JS, no external assets. Talks to /api/exposure.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const MAX_ROWS = 24;

function $(id) { return document.getElementById(id); }
function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}
function sv(tag, attrs, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}
function fmtTime(iso) { return iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "—"; }
function hours(s) { return (s / 3600).toFixed(2); }
function pct(f) { return (100 * f).toFixed(2); }

async function api(path) {
  const res = await fetch(path, { headers: { Accept: "application/json" } });
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) throw new Error((data && data.error) || `${res.status} ${res.statusText}`);
  return data;
}

function showError(err) {
  const box = $("exp-error");
  box.hidden = !err;
  box.textContent = err ? (err.message || String(err)) : "";
}

/** Exposed spans of a row: the complement of its unobserved intervals inside [t0, t1]. */
function complement(gaps, t0, t1) {
  const sorted = gaps.map((g) => [Date.parse(g.start), Date.parse(g.end)]).sort((a, b) => a[0] - b[0]);
  const out = [];
  let cur = t0;
  for (const [a, b] of sorted) {
    if (a > cur) out.push([cur, a]);
    cur = Math.max(cur, b);
  }
  if (t1 > cur) out.push([cur, t1]);
  return out;
}

function timeTicks(t0, t1) {
  const hour = 3600e3;
  const steps = [hour, 3 * hour, 6 * hour, 12 * hour, 24 * hour, 48 * hour, 7 * 24 * hour];
  const step = steps.find((s) => (t1 - t0) / s <= 10) || steps[steps.length - 1];
  const ticks = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) ticks.push(t);
  return { ticks, step };
}

function renderTimeline(data) {
  const svg = $("exp-timeline");
  svg.replaceChildren();
  const t0 = Date.parse(data.start), t1 = Date.parse(data.end);
  const rows = [{ label: "all satellites", gaps: data.unobserved,
                  exposed: data.summary.exposed_fraction, longest: data.summary.longest_unobserved_s }];
  const byKey = new Map();
  for (const g of (data.unobserved_by.country_kind || [])) {
    if (!byKey.has(g.key)) byKey.set(g.key, []);
    byKey.get(g.key).push(g);
  }
  for (const k of (data.breakdown.country_kind || []).slice(0, MAX_ROWS - 1)) {
    rows.push({ label: k.key, gaps: byKey.get(k.key) || [], exposed: k.exposed_fraction,
                longest: k.longest_unobserved_s });
  }
  const left = 120, right = 150, top = 8, rowH = 20, axisH = 30, width = 1100;
  const height = top + rows.length * rowH + axisH;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.dataset.rows = String(rows.length);
  const x = (t) => left + (width - left - right) * (t - t0) / (t1 - t0);
  const { ticks, step } = timeTicks(t0, t1);
  for (const t of ticks) {
    svg.append(sv("line", { class: "grid", x1: x(t), x2: x(t), y1: top, y2: top + rows.length * rowH }));
    const iso = new Date(t).toISOString();
    const label = step >= 24 * 3600e3 || iso.slice(11, 16) === "00:00" ? iso.slice(5, 10) : iso.slice(11, 16) + "Z";
    svg.append(sv("text", { x: x(t), y: height - 10, "text-anchor": "middle" }, label));
  }
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    svg.append(sv("text", { x: left - 6, y: y + rowH - 6, "text-anchor": "end" }, row.label));
    const gaps = row.gaps.slice().sort((a, b) => b.duration_s - a.duration_s);
    gaps.forEach((g, j) => {
      const a = x(Date.parse(g.start)), b = x(Date.parse(g.end));
      const r = sv("rect", { class: j === 0 ? "exp-longest" : "exp-gap", x: a, y: y + 2,
                             width: Math.max(b - a, 0.5), height: rowH - 4 });
      r.append(sv("title", {}, `${row.label}: unobserved ${fmtTime(g.start)} → ${fmtTime(g.end)} (${hours(g.duration_s)} h)`));
      svg.append(r);
    });
    for (const [a, b] of complement(row.gaps, t0, t1)) {
      const r = sv("rect", { class: "exp-on", x: x(a), y: y + 5, width: Math.max(x(b) - x(a), 1), height: rowH - 10 });
      r.append(sv("title", {}, `${row.label}: exposed ${fmtTime(new Date(a).toISOString())} → ${fmtTime(new Date(b).toISOString())}`));
      svg.append(r);
    }
    svg.append(sv("text", { x: width - right + 6, y: y + rowH - 6 },
                  `${pct(row.exposed)}% · gap ${hours(row.longest)} h`));
  });
  svg.append(sv("line", { class: "axis", x1: left, x2: width - right, y1: top + rows.length * rowH, y2: top + rows.length * rowH }));
}

function fillTable(id, rows) {
  const body = $(id).querySelector("tbody");
  body.replaceChildren();
  for (const cells of rows) {
    const tr = el("tr");
    for (const [text, num] of cells) tr.append(el("td", text, num ? "num" : ""));
    body.append(tr);
  }
}

function render(data) {
  const s = data.summary;
  $("exp-summary").textContent = `${data.target}: exposed ${pct(s.exposed_fraction)}% of the time by ${s.satellites} satellites`;
  const facts = [
    `${fmtTime(data.start)} → ${fmtTime(data.end)}, ${data.imaging ? "imaging rules" : "geometry only"}`,
    `longest unobserved: ${hours(s.longest_unobserved_s)} h from ${fmtTime(s.longest_unobserved_start)} to ${fmtTime(s.longest_unobserved_end)}`,
    `next exposure: ${s.next_exposure ? fmtTime(s.next_exposure) + " (" + s.next_exposure_satellites.slice(0, 5).join(", ") + ")" : "none in the span"}`,
    `${s.intervals} exposure intervals from ${s.windows} windows; ${data.skipped.length} satellites left out`,
  ];
  $("exp-facts").replaceChildren(...facts.map((f) => el("li", f)));
  $("exp-warnings").replaceChildren(...data.warnings.map((w) => el("li", w)));
  renderTimeline(data);
  fillTable("exp-gaps", data.unobserved.slice(0, 15).map((u) => [[fmtTime(u.start)], [fmtTime(u.end)], [hours(u.duration_s), true]]));
  fillTable("exp-by-country", (data.breakdown.country || []).map((k) => [
    [k.key], [k.satellites, true], [pct(k.exposed_fraction), true], [hours(k.longest_unobserved_s), true],
    [fmtTime(k.longest_unobserved_start)], [fmtTime(k.next_exposure)]]));
  fillTable("exp-intervals", data.intervals.slice(0, 300).map((r) => [
    [fmtTime(r.start)], [fmtTime(r.end).slice(11)], [(r.duration_s / 60).toFixed(1), true],
    [r.satellites.slice(0, 4).map((o) => o.name).join(", ") + (r.satellites.length > 4 ? ` +${r.satellites.length - 4}` : "")],
    [r.countries.join(" ")], [r.kinds.join(" ")], [r.best_gsd_m === null ? "—" : r.best_gsd_m.toFixed(2), true]]));
  $("exp-result").hidden = false;
  $("exp-summary").focus();
}

async function submit(ev) {
  ev.preventDefault();
  showError(null);
  const site = $("exp-site").value.trim();
  if (!site) { showError(new Error("site: give a named site or LAT,LON")); return; }
  const q = new URLSearchParams({ site, days: $("exp-days").value || "1", max_unobserved: "10000" });
  if ($("exp-start").value.trim()) q.set("start", $("exp-start").value.trim());
  if ($("exp-group").value) q.set("group", $("exp-group").value);
  if (!$("exp-imaging").checked) { q.set("imaging", "false"); q.set("max_off_nadir_deg", "45"); }
  $("exp-submit").disabled = true;
  $("exp-loading").hidden = false;
  try {
    render(await api("/api/exposure?" + q.toString()));
  } catch (err) {
    showError(err);
  } finally {
    $("exp-submit").disabled = false;
    $("exp-loading").hidden = true;
  }
}

async function init() {
  $("exp-form").addEventListener("submit", submit);
  try {
    const [sites, groups] = await Promise.all([api("/api/sites"), api("/api/groups")]);
    $("exp-site-names").replaceChildren(...sites.map((s) => { const o = el("option"); o.value = s.name; return o; }));
    const sel = $("exp-group");
    sel.replaceChildren(...groups.map((g) => { const o = el("option", `${g.group} (${g.objects})`); o.value = g.group; return o; }));
    if (groups.some((g) => g.group === "resource")) sel.value = "resource";
    document.body.dataset.ready = "1";
  } catch (err) {
    showError(err);
  }
}

document.addEventListener("DOMContentLoaded", init);
