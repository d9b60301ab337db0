// overflight dashboard: vanilla JS, no external assets. Talks to the JSON API of this server.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const TRACK_COLORS = ["#d1242f", "#0b5cad", "#1a7f37", "#8250df", "#bc4c00", "#bf3989",
                      "#1b7c83", "#7d4e00", "#57606a", "#0550ae"];
const TRACKS_DRAWN = 8;         // ground tracks drawn automatically after a passes search
const FOOTPRINTS_DRAWN = 8;     // footprints drawn with them (area answers)
const LOADING_DELAY_MS = 500;   // show the loading indicator for anything slower than this

// ---- small helpers ------------------------------------------------------------------------------
function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "className") node.className = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function sv(tag, attrs, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  }
  if (text !== undefined) node.textContent = text;
  return node;
}

function svgTitle(node, text) { node.append(sv("title", {}, text)); return node; }

/** "2026-05-31T00:12:03.123Z" -> "2026-05-31 00:12:03Z" (UTC, always with Z). */
function fmtTime(iso) {
  if (!iso) return "—";
  return iso.replace("T", " ").replace(/\.\d+Z$/, "Z");
}
function fmtClock(iso) { return iso ? fmtTime(iso).slice(11) : "—"; }
function num(v, digits) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  const s = Number(v).toFixed(digits);
  return /^-0(\.0+)?$/.test(s) ? s.slice(1) : s;  // no "-0"
}
function show(node, on) { node.hidden = !on; }

function showError(id, err) {
  const box = $(id);
  if (!err) { box.hidden = true; box.textContent = ""; return; }
  box.textContent = err.message || String(err);
  box.hidden = false;
}

// ---- API and the loading indicator ----------------------------------------------------------------
let pending = 0;
let loadingTimer = null;

function startLoading(label) {
  pending += 1;
  $("loading-text").textContent = label + "…";
  if (loadingTimer === null) {
    loadingTimer = setTimeout(() => { if (pending > 0) $("loading").hidden = false; }, LOADING_DELAY_MS);
  }
}
function stopLoading() {
  pending = Math.max(0, pending - 1);
  if (pending === 0) {
    clearTimeout(loadingTimer);
    loadingTimer = null;
    $("loading").hidden = true;
  }
}

class ApiError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

async function api(path, options) {
  const opts = Object.assign({ headers: { Accept: "application/json" } }, options || {});
  if (opts.json !== undefined) {
    opts.method = opts.method || "POST";
    opts.body = JSON.stringify(opts.json);
    opts.headers["Content-Type"] = "application/json";
    delete opts.json;
  }
  const res = await fetch(path, opts);
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    throw new ApiError((data && data.error) || `${res.status} ${res.statusText}`, res.status);
  }
  return data;
}

async function withLoading(label, button, work) {
  startLoading(label);
  if (button) button.disabled = true;
  try { return await work(); } finally {
    if (button) button.disabled = false;
    stopLoading();
  }
}

// ---- the world map (equirectangular, x = lon, y = -lat) -------------------------------------------
let basemapPromise = null;
function basemapPath() {
  if (basemapPromise === null) {
    basemapPromise = api("/api/basemap").then((geo) => {
      const parts = [];
      const ring = (coords) => {
        let d = "";
        coords.forEach(([lon, lat], i) => { d += (i ? "L" : "M") + lon.toFixed(2) + "," + (-lat).toFixed(2); });
        return d + "Z";
      };
      for (const f of geo.features) {
        const g = f.geometry;
        if (!g) continue;
        const polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
        for (const poly of polys) for (const r of poly) parts.push(ring(r));
      }
      return parts.join("");
    });
  }
  return basemapPromise;
}

class WorldMap {
  constructor(svg, options) {
    this.svg = svg;
    this.options = options || {};
    svg.setAttribute("viewBox", "-180 -90 360 180");
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    this.base = sv("g", { class: "base" });
    this.sitesLayer = sv("g", { class: "named-sites" });
    this.footprints = sv("g", { class: "footprints" });
    this.areas = sv("g", { class: "areas" });
    this.tracks = sv("g", { class: "tracks" });
    this.marks = sv("g", { class: "marks" });
    svg.append(this.base, this.sitesLayer, this.footprints, this.areas, this.tracks, this.marks);
    const grat = sv("g", { class: "graticule-layer" });
    for (let lon = -150; lon <= 150; lon += 30) grat.append(sv("line", { class: "graticule", x1: lon, y1: -90, x2: lon, y2: 90, "vector-effect": "non-scaling-stroke" }));
    for (let lat = -60; lat <= 60; lat += 30) grat.append(sv("line", { class: "graticule", x1: -180, y1: -lat, x2: 180, y2: -lat, "vector-effect": "non-scaling-stroke" }));
    this.base.append(grat);
    this.ready = basemapPath().then((d) => {
      this.base.insertBefore(sv("path", { class: "land", d, "vector-effect": "non-scaling-stroke" }), grat);
      svg.dataset.ready = "1";
    });
    if (this.options.onClick) {
      svg.addEventListener("click", (ev) => {
        const pt = svg.createSVGPoint();
        pt.x = ev.clientX; pt.y = ev.clientY;
        const p = pt.matrixTransform(svg.getScreenCTM().inverse());
        const lon = Math.max(-180, Math.min(180, p.x));
        const lat = Math.max(-90, Math.min(90, -p.y));
        this.options.onClick(lat, lon);
      });
    }
  }

  scale() {
    const vb = this.svg.viewBox.baseVal;
    return vb && vb.width ? vb.width / 360 : 1;
  }

  setView(bbox, minWidth) {  // [minLon, minLat, maxLon, maxLat] or null for the whole world
    if (!bbox) { this.svg.setAttribute("viewBox", "-180 -90 360 180"); this.resizeDots(); return; }
    let [x0, y0, x1, y1] = bbox;
    const wmin = minWidth || 8;
    let w = Math.max(x1 - x0, wmin), h = Math.max(y1 - y0, wmin / 2);
    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    w *= 1.25; h *= 1.25;
    if (w / h > 2) h = w / 2; else w = h * 2;
    w = Math.min(w, 360); h = Math.min(h, 180);
    const left = Math.max(-180, Math.min(180 - w, cx - w / 2));
    const top = Math.max(-90, Math.min(90 - h, -cy - h / 2));
    this.svg.setAttribute("viewBox", `${left} ${top} ${w} ${h}`);
    this.resizeDots();
  }

  resizeDots() {
    const r = (1.1 * this.scale()).toFixed(3);
    for (const c of this.sitesLayer.children) c.setAttribute("r", r);
  }

  drawNamedSites(sites) {
    this.sitesLayer.replaceChildren();
    for (const s of sites) {
      this.sitesLayer.append(svgTitle(sv("circle", { class: "named-site", cx: s.lon_deg, cy: -s.lat_deg, r: 1.1 }),
                                      `${s.name} (${s.lat_deg.toFixed(3)}, ${s.lon_deg.toFixed(3)})`));
    }
  }

  clearMarks() { this.marks.replaceChildren(); }

  star(lat, lon, label) {
    const k = this.scale();
    const r = 3.2 * k, pts = [];
    for (let i = 0; i < 10; i++) {
      const a = Math.PI / 2 + i * Math.PI / 5, rr = i % 2 ? r * 0.45 : r;
      pts.push(`${(lon + rr * Math.cos(a)).toFixed(3)},${(-lat - rr * Math.sin(a)).toFixed(3)}`);
    }
    const g = sv("g", { class: "site-mark" });
    g.append(svgTitle(sv("polygon", { class: "site", points: pts.join(" "), "vector-effect": "non-scaling-stroke" }), label));
    if (label) {
      const t = sv("text", { class: "site-label", x: lon + 4 * k, y: -lat + 1.5 * k }, label);
      const px = 360 * k / Math.max(this.svg.clientWidth || 720, 200);  // user units per pixel
      t.style.fontSize = (12 * px).toFixed(3) + "px";
      t.style.strokeWidth = (3 * px).toFixed(3) + "px";
      g.append(t);
    }
    this.marks.append(g);
  }

  dot(lat, lon, label) {
    const k = this.scale();
    this.marks.append(svgTitle(sv("circle", { class: "nadir", cx: lon, cy: -lat, r: 1.6 * k, "vector-effect": "non-scaling-stroke" }), label));
  }

  clearTracks() { this.tracks.replaceChildren(); }

  /** Draw an area target's outline (GeoJSON MultiPolygon geometry) and return its element. */
  area(geometry, label) {
    this.areas.replaceChildren();
    const p = sv("path", { class: "area-outline", d: geoPath(geometry), "fill-rule": "evenodd", "vector-effect": "non-scaling-stroke" });
    this.areas.append(svgTitle(p, label));
    return p;
  }

  clearAreas() { this.areas.replaceChildren(); }

  clearFootprints() { this.footprints.replaceChildren(); }

  /** Draw a window's footprint (GeoJSON Polygon geometry) in the window's colour. */
  footprint(geometry, color, label, key) {
    const p = sv("path", { class: "footprint", d: geoPath(geometry), fill: color, stroke: color,
                           "data-key": key || "", "vector-effect": "non-scaling-stroke" });
    this.footprints.append(svgTitle(p, label));
    return p;
  }

  /** Draw a ground track (API track points); the line breaks at the antimeridian. */
  track(points, color, label, key) {
    const g = sv("g", { class: "track-group", "data-key": key || "" });
    let seg = [];
    const segments = [];
    let prev = null;
    for (const p of points) {
      if (p.lat_deg === null || p.lon_deg === null) { if (seg.length) segments.push(seg); seg = []; prev = null; continue; }
      if (prev !== null && Math.abs(p.lon_deg - prev) > 180) { segments.push(seg); seg = []; }
      seg.push(`${p.lon_deg.toFixed(3)},${(-p.lat_deg).toFixed(3)}`);
      prev = p.lon_deg;
    }
    if (seg.length) segments.push(seg);
    for (const s of segments) {
      if (s.length < 2) continue;
      g.append(svgTitle(sv("polyline", { class: "track", points: s.join(" "), stroke: color, "vector-effect": "non-scaling-stroke" }), label));
    }
    this.tracks.append(g);
    return g;
  }
}

/** SVG path data of a GeoJSON Polygon or MultiPolygon geometry (x = lon, y = -lat). */
function geoPath(geometry) {
  const polys = geometry.type === "Polygon" ? [geometry.coordinates]
    : geometry.type === "MultiPolygon" ? geometry.coordinates : [];
  let d = "";
  for (const poly of polys) {
    for (const ring of poly) {
      ring.forEach(([lon, lat], i) => { d += (i ? "L" : "M") + lon.toFixed(4) + "," + (-lat).toFixed(4); });
      d += "Z";
    }
  }
  return d;
}

/** [lat, lon] pairs of a geometry's outer rings (for zooming). */
function geoPoints(geometry) {
  const polys = geometry.type === "Polygon" ? [geometry.coordinates]
    : geometry.type === "MultiPolygon" ? geometry.coordinates : [];
  const out = [];
  for (const poly of polys) for (const [lon, lat] of poly[0]) out.push([lat, lon]);
  return out;
}

function trackBBox(points, extra) {
  let x0 = 180, y0 = 90, x1 = -180, y1 = -90;
  const add = (lat, lon) => { x0 = Math.min(x0, lon); x1 = Math.max(x1, lon); y0 = Math.min(y0, lat); y1 = Math.max(y1, lat); };
  for (const p of points) if (p.lat_deg !== null) add(p.lat_deg, p.lon_deg);
  for (const [lat, lon] of extra || []) add(lat, lon);
  if (x1 - x0 > 200) return null;  // crosses the antimeridian or spans the world: show it all
  return [x0, y0, x1, y1];
}

// ---- shared data: sites and groups -------------------------------------------------------------------
let sitesPromise = null;
function loadSites() {
  if (sitesPromise === null) sitesPromise = api("/api/sites");
  return sitesPromise;
}
let areasPromise = null;
function loadAreas() {
  if (areasPromise === null) areasPromise = api("/api/areas");
  return areasPromise;
}
let groupsPromise = null;
function loadGroups() {
  if (groupsPromise === null) groupsPromise = api("/api/groups");
  return groupsPromise;
}

// ---- page: passes over a site -------------------------------------------------------------------------
const passes = { map: null, result: null, tracks: new Map(), points: [], request: null };

function parseCoords(text) {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*[, ]\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text || "");
  if (!m) return null;
  const lat = Number(m[1]), lon = Number(m[2]);
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  return [lat, lon];
}

async function currentArea() {
  const name = $("area-select").value;
  if (!name) return null;
  return (await loadAreas()).find((a) => a.name === name) || null;
}

async function currentSite() {
  const area = await currentArea();
  if (area) return { area: area.name, lat: area.centroid_lat_deg, lon: area.centroid_lon_deg, label: area.name, geometry: area.geometry };
  const name = $("site-select").value;
  if (name) {
    const s = (await loadSites()).find((x) => x.name === name);
    return { query: name, lat: s.lat_deg, lon: s.lon_deg, label: name };
  }
  const c = parseCoords($("site-coords").value);
  if (c) return { query: `${c[0]},${c[1]}`, lat: c[0], lon: c[1], label: `${c[0].toFixed(3)}, ${c[1].toFixed(3)}` };
  return null;
}

async function markSite() {
  const s = await currentSite();
  passes.map.clearMarks();
  passes.map.clearAreas();
  if (s && s.geometry) {
    passes.map.area(s.geometry, s.label);
    passes.map.setView(trackBBox([], geoPoints(s.geometry)), 0.12);  // a few km: show the outline
  }
  if (s) passes.map.star(s.lat, s.lon, s.label);
}

function passesRequest(site) {
  const req = site.area ? { area: site.area, area_mode: $("area-mode").value } : { site: [site.query] };
  if ($("passes-imaging").checked) req.imaging = true;
  const sats = $("passes-sats").value.split(",").map((x) => x.trim()).filter(Boolean);
  if (sats.length) req.sat = sats; else req.group = [$("passes-group").value || "resource"];
  const start = $("passes-start").value.trim();
  if (start) req.start = start;
  const days = $("passes-days").value;
  req.days = days ? Number(days) : 1;
  const off = $("passes-offnadir").value;
  if (off !== "") req.max_off_nadir_deg = Number(off);
  const minel = $("passes-minel").value;
  if (minel !== "") req.min_elevation_deg = Number(minel);
  if ($("passes-daylight").checked) req.sun_min_deg = 0;
  return req;
}

async function submitPasses(ev) {
  ev.preventDefault();
  showError("passes-error", null);
  show($("passes-job"), false);
  const site = await currentSite();
  if (!site) {
    showError("passes-error", new Error("Choose a named site or an area, type LAT,LON, or click the map."));
    $("site-select").focus();
    return;
  }
  await markSite();
  const req = passesRequest(site);
  passes.request = req;
  try {
    const data = await withLoading("Computing passes", $("passes-submit"), () => api("/api/passes", { json: req }));
    renderPasses(data);
  } catch (err) {
    showError("passes-error", err);
    if (err.status === 422 && /background job/.test(err.message)) {
      $("passes-job-text").textContent = "This request is larger than one interactive request may be. It can run as a background job; the page shows its progress and the result when it is done.";
      $("passes-job-progress").value = 0;
      show($("passes-job"), true);
    }
  }
}

async function runPassesJob() {
  const req = passes.request;
  if (!req) return;
  showError("passes-error", null);
  const button = $("passes-job-run");
  button.disabled = true;
  startLoading("Background job");
  try {
    const job = await api("/api/jobs/passes", { json: req });
    for (;;) {
      const st = await api(job.status_url);
      $("passes-job-progress").value = st.progress;
      $("passes-job-text").textContent = `Background job ${st.id}: ${st.status}, ${Math.round(st.progress * 100)} %`;
      if (st.status === "done") break;
      if (st.status === "failed" || st.status === "cancelled") throw new Error(`job ${st.status}: ${st.error}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const result = await api(job.result_url + "?limit=5000");
    result.work = null;
    renderPasses(result);
  } catch (err) {
    showError("passes-error", err);
  } finally {
    button.disabled = false;
    stopLoading();
  }
}

function renderPasses(data) {
  passes.result = data;
  passes.tracks.clear();
  passes.points = [];
  passes.map.clearTracks();
  passes.map.clearFootprints();
  passes.map.clearAreas();
  if (data.area) {
    passes.map.area(data.area.geometry, `${data.area.title} (${data.area.precision})`);
    passes.points.push(...geoPoints(data.area.geometry).map(([lat, lon]) => ({ lat_deg: lat, lon_deg: lon })));
  }
  drawFootprints(data);
  const siteNames = data.sites.map((s) => s.name).join(", ");
  $("passes-summary").textContent =
    `${data.count} passes of ${data.satellites} satellites over ${siteNames}, ${fmtTime(data.start)} → ${fmtTime(data.end)}`;
  const warn = $("passes-warnings");
  const skipped = (data.skipped || []).map((k) =>
    `left out: ${k.name} (${k.norad_id}): ${k.reason}${k.start ? ` (${fmtTime(k.start)} → ${fmtTime(k.end)})` : ""}`);
  warn.replaceChildren(...[...(data.warnings || []), ...skipped.slice(0, 20),
    ...(skipped.length > 20 ? [`… and ${skipped.length - 20} more left out`] : [])]
    .map((w) => el("li", { text: w })));
  renderTimeline(data);
  const body = $("passes-table").querySelector("tbody");
  const rows = [];
  const shown = data.windows.slice(0, 1000);
  shown.forEach((w, i) => {
    const btn = el("button", { type: "button", className: "small", "aria-pressed": "false",
                               "aria-label": `Show the ground track of ${w.name} from ${fmtTime(w.start)}` }, "Show");
    btn.addEventListener("click", () => focusTrack(i));
    const link = el("a", { href: `#/sat/${w.norad_id}` }, `${w.name || w.norad_id} (${w.norad_id})`);
    rows.push(el("tr", { "data-index": i },
      el("td", {}, link), el("td", {}, fmtTime(w.start)), el("td", {}, fmtClock(w.peak)),
      el("td", {}, fmtClock(w.end)), el("td", { className: "num" }, num(w.max_elevation_deg, 1)),
      el("td", { className: "num" }, num(w.min_off_nadir_deg, 1)), el("td", { className: "num" }, num(w.min_range_km, 0)),
      el("td", { className: "num" }, num(w.sun_elevation_deg, 0)), el("td", {}, w.satellite_sunlit ? "yes" : "no"),
      el("td", {}, w.direction.slice(0, 3)), el("td", { className: "num" }, w.gsd_m === null ? "—" : num(w.gsd_m, 2)),
      el("td", { className: "num" }, w.elset_age_days == null ? "—" : num(w.elset_age_days, 1)),
      el("td", { className: "num" }, w.area_fraction == null ? "—" : num(100 * w.area_fraction, 0)),
      el("td", {}, btn)));
  });
  body.replaceChildren(...rows);
  $("passes-more").textContent = data.windows.length > shown.length
    ? `Showing the first ${shown.length} of ${data.windows.length} passes; the API returns them all.` : "";
  show($("passes-overview"), true);
  show($("passes-result"), true);
  $("passes-summary").focus();
  drawFirstTracks(data);
}

function trackKey(w) { return `${w.norad_id}|${w.start}`; }

/** The footprints of the first windows (area answers carry one per window), coloured as
 *  their ground tracks will be. */
function drawFootprints(data) {
  let n = 0;
  data.windows.slice(0, FOOTPRINTS_DRAWN).forEach((w, i) => {
    if (!w.footprint) return;
    const color = TRACK_COLORS[i % TRACK_COLORS.length];
    const share = w.area_fraction == null ? "" : `, ${num(100 * w.area_fraction, 0)} % of the area in reach`;
    passes.map.footprint(w.footprint, color, `${w.name} (${w.norad_id}) ${fmtTime(w.start)} → ${fmtClock(w.end)}${share}`, trackKey(w));
    n += 1;
  });
  $("passes-map").dataset.footprints = String(n);
}

async function fetchPassTrack(w) {
  const t0 = new Date(Date.parse(w.start) - 5 * 60000).toISOString();
  const t1 = new Date(Date.parse(w.end) + 5 * 60000).toISOString();
  const q = new URLSearchParams({ sat: String(w.norad_id), start: t0, end: t1, step_s: "20" });
  return api("/api/track?" + q.toString());
}

async function drawPassTrack(i) {
  const data = passes.result;
  const w = data.windows[i];
  const key = trackKey(w);
  if (passes.tracks.has(key)) return passes.tracks.get(key);
  const tr = await fetchPassTrack(w);
  if (passes.result !== data) return null;  // a newer search replaced this one
  passes.points.push(...tr.points);
  const color = TRACK_COLORS[passes.tracks.size % TRACK_COLORS.length];
  const g = passes.map.track(tr.points, color, `${w.name} (${w.norad_id}) ${fmtTime(w.start)} → ${fmtClock(w.end)}`, key);
  passes.tracks.set(key, g);
  return g;
}

async function drawFirstTracks(data) {
  const n = Math.min(TRACKS_DRAWN, data.windows.length);
  if (!n) return;
  await withLoading("Drawing ground tracks", null, async () => {
    for (let i = 0; i < n; i++) {
      if (passes.result !== data) return;
      try { await drawPassTrack(i); } catch (err) { showError("passes-error", err); return; }
    }
  });
  $("passes-map").dataset.tracks = String(passes.tracks.size);
  await zoomPasses(true);
}

/** Zoom the map to the site and the tracks drawn (or back to the whole world). */
async function zoomPasses(toTracks) {
  const s = resultSite();
  const extra = s ? [[s.lat_deg, s.lon_deg]] : [];
  passes.map.setView(toTracks ? trackBBox(passes.points, extra) : null);
  passes.map.clearMarks();
  if (s) passes.map.star(s.lat_deg, s.lon_deg, s.name);
  $("passes-world").hidden = !toTracks;
  $("passes-zoom").hidden = toTracks || !passes.points.length;
}

function resultSite() {
  return passes.result && passes.result.sites.length ? passes.result.sites[0] : null;
}

async function focusTrack(i) {
  const g = await withLoading("Ground track", null, () => drawPassTrack(i)).catch((err) => { showError("passes-error", err); return null; });
  if (!g) return;
  for (const other of passes.map.tracks.children) {
    const focus = other === g;
    for (const line of other.children) {
      if (line.tagName !== "polyline") continue;
      line.classList.toggle("focus", focus);
      line.classList.toggle("dim", !focus);
    }
  }
  passes.map.tracks.append(g);  // on top
  const key = g.getAttribute("data-key");
  for (const fp of passes.map.footprints.children) {
    fp.classList.toggle("focus", fp.getAttribute("data-key") === key);
    fp.classList.toggle("dim", fp.getAttribute("data-key") !== key);
  }
  if (!$("passes-world").hidden) await zoomPasses(true);
  for (const tr of $("passes-table").querySelectorAll("tbody tr")) {
    const on = Number(tr.dataset.index) === i;
    tr.classList.toggle("focus", on);
    const b = tr.querySelector("button");
    if (b) b.setAttribute("aria-pressed", on ? "true" : "false");
  }
}

function timeTicks(t0, t1) {
  const span = t1 - t0;
  const hour = 3600e3;
  const steps = [hour, 3 * hour, 6 * hour, 12 * hour, 24 * hour, 48 * hour, 7 * 24 * hour];
  const step = steps.find((s) => span / s <= 10) || steps[steps.length - 1];
  const ticks = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) ticks.push(t);
  return { ticks, step };
}

function tickLabel(t, step) {
  const iso = new Date(t).toISOString();
  const midnight = iso.slice(11, 16) === "00:00";
  return step >= 24 * 3600e3 || midnight ? iso.slice(5, 10) : iso.slice(11, 16) + "Z";
}

function renderTimeline(data) {
  const svg = $("passes-timeline");
  svg.replaceChildren();
  const t0 = Date.parse(data.start), t1 = Date.parse(data.end);
  const bySat = new Map();
  for (const w of data.windows) {
    if (!bySat.has(w.norad_id)) bySat.set(w.norad_id, { name: w.name || String(w.norad_id), windows: [] });
    bySat.get(w.norad_id).windows.push(w);
  }
  const maxRows = 30;
  const rows = [...bySat.entries()].slice(0, maxRows);
  const left = 150, right = 28, top = 8, rowH = 16, axisH = 30;
  const width = 760, height = top + rows.length * rowH + axisH;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const x = (t) => left + (width - left - right) * (t - t0) / (t1 - t0);
  const { ticks, step } = timeTicks(t0, t1);
  for (const t of ticks) {
    svg.append(sv("line", { class: "grid", x1: x(t), x2: x(t), y1: top, y2: top + rows.length * rowH }));
    svg.append(sv("text", { x: x(t), y: height - 10, "text-anchor": "middle" }, tickLabel(t, step)));
  }
  svg.append(sv("line", { class: "axis", x1: left, x2: width - right, y1: top + rows.length * rowH, y2: top + rows.length * rowH }));
  rows.forEach(([id, row], k) => {
    const y = top + k * rowH;
    if (k % 2 === 0) svg.append(sv("rect", { class: "rowbg", x: left, y, width: width - left - right, height: rowH }));
    const label = row.name.length > 20 ? row.name.slice(0, 19) + "…" : row.name;
    svg.append(svgTitle(sv("text", { x: left - 6, y: y + rowH - 4, "text-anchor": "end" }, label), `${row.name} (${id})`));
    for (const w of row.windows) {
      const a = x(Date.parse(w.start)), b = x(Date.parse(w.end));
      const bar = sv("rect", { class: "bar " + (w.sun_elevation_deg > 0 ? "day" : "night"),
                               x: a, y: y + 2, width: Math.max(b - a, 2), height: rowH - 4 });
      svg.append(svgTitle(bar, `${row.name}: ${fmtTime(w.start)} → ${fmtClock(w.end)}, max elevation ${num(w.max_elevation_deg, 1)}°, Sun ${num(w.sun_elevation_deg, 0)}°`));
    }
  });
  if (bySat.size > maxRows) {
    svg.setAttribute("aria-label", `Timeline of passes of the first ${maxRows} of ${bySat.size} satellites`);
  }
}

async function initPasses() {
  passes.map = new WorldMap($("passes-map"), {
    onClick: (lat, lon) => {
      $("site-select").value = "";
      $("area-select").value = "";
      $("site-coords").value = `${lat.toFixed(4)},${lon.toFixed(4)}`;
      markSite();
    },
  });
  const [sites, groups, areas] = await Promise.all([loadSites(), loadGroups(), loadAreas()]);
  const asel = $("area-select");
  for (const a of areas) asel.append(el("option", { value: a.name }, `${a.name} (${num(a.area_km2, 1)} km²)`));
  const select = $("site-select");
  for (const s of sites) select.append(el("option", { value: s.name }, s.name + (s.country ? ` (${s.country})` : "")));
  passes.map.drawNamedSites(sites);
  const gsel = $("passes-group");
  for (const g of groups) gsel.append(el("option", { value: g.group }, `${g.group} (${g.objects})`));
  if (groups.some((g) => g.group === "resource")) gsel.value = "resource";
  select.addEventListener("change", () => { if (select.value) { $("site-coords").value = ""; asel.value = ""; } markSite(); });
  $("site-coords").addEventListener("change", () => { if ($("site-coords").value) { select.value = ""; asel.value = ""; } markSite(); });
  asel.addEventListener("change", () => { if (asel.value) { select.value = ""; $("site-coords").value = ""; } markSite(); });
  $("passes-form").addEventListener("submit", submitPasses);
  $("passes-job-run").addEventListener("click", runPassesJob);
  $("passes-world").addEventListener("click", () => zoomPasses(false));
  $("passes-zoom").addEventListener("click", () => zoomPasses(true));
}

// ---- page: claim checker --------------------------------------------------------------------------------
let claimMap = null;

async function submitClaim(ev) {
  ev.preventDefault();
  showError("claim-error", null);
  const claim = {
    satellite: $("claim-sat").value.trim(),
    target: $("claim-target").value.trim(),
    time: $("claim-time").value.trim(),
  };
  const missing = Object.entries(claim).filter(([, v]) => !v).map(([k]) => k);
  if (missing.length) {
    showError("claim-error", new Error(`Please fill in: ${missing.join(", ")}.`));
    $("claim-" + (missing[0] === "satellite" ? "sat" : missing[0])).focus();
    return;
  }
  const opt = (id, key, conv) => { const v = $(id).value.trim(); if (v) claim[key] = conv ? conv(v) : v; };
  opt("claim-zone", "zone");
  opt("claim-time-end", "time_end");
  opt("claim-tolerance", "tolerance_s", Number);
  opt("claim-offnadir", "max_off_nadir_deg", Number);
  opt("claim-sensor", "sensor");
  try {
    const data = await withLoading("Checking the claim", $("claim-submit"),
      () => api("/api/verify", { json: { claims: [claim], include_track: true } }));
    renderClaim(data.results[0]);
  } catch (err) {
    show($("claim-result"), false);
    showError("claim-error", err);
  }
}

function renderClaim(r) {
  const v = $("claim-verdict");
  v.textContent = r.verdict + (r.confidence === "lowered" ? " (confidence lowered)" : "");
  v.className = "verdict " + r.verdict;
  $("claim-reasons").replaceChildren(...r.reasons.map((x) => el("li", { text: x })));
  const facts = [
    ["Satellite", r.satellite_name ? `${r.satellite_name} (${r.norad_id})` : r.satellite],
    ["Target", r.target_lat_deg === null ? r.target : `${r.target} (${num(r.target_lat_deg, 4)}, ${num(r.target_lon_deg, 4)})`],
    ["Claimed time", fmtTime(r.claimed_time) + (r.claimed_time_end ? " → " + fmtTime(r.claimed_time_end) : "") +
      (r.claimed_time_as_given ? `  (as given: ${r.claimed_time_as_given})` : "")],
    ["Closest approach", r.closest_approach_time ? `${fmtTime(r.closest_approach_time)} (${num(r.time_offset_s, 1)} s from the claim)` : "—"],
    ["Ground distance of nadir", r.ground_distance_km === null ? "—" : `${num(r.ground_distance_km, 1)} km`],
    ["Off-nadir angle", r.off_nadir_deg === null ? "—" : `${num(r.off_nadir_deg, 2)}° (sensor reach ${num(r.max_off_nadir_deg, 0)}°, ${r.max_off_nadir_source || "default"})`],
    ["Sun elevation at the target", r.sun_elevation_deg === null ? "—" : `${num(r.sun_elevation_deg, 1)}°`],
    ["Estimated GSD", r.gsd_m === null ? "—" : `${num(r.gsd_m, 2)} m`],
    ["Element set used", r.elset_epoch ? `${fmtTime(r.elset_epoch)} (${num(r.elset_age_days, 2)} days from the claim)` : "—"],
    ["Maneuver between element sets", r.maneuver_between_elsets === null ? "—" : (r.maneuver_between_elsets ? "yes" : "no")],
  ];
  if (r.nearest_opportunity) {
    const o = r.nearest_opportunity;
    facts.push(["Nearest imaging opportunity", `${fmtTime(o.start)} → ${fmtClock(o.end)} (${num(o.offset_s, 0)} s from the claim, off-nadir ${num(o.off_nadir_deg, 1)}°)`]);
  }
  if (r.data_needed) facts.push(["Data needed", r.data_needed]);
  $("claim-evidence").replaceChildren(...facts.flatMap(([k, val]) => [el("dt", { text: k }), el("dd", { text: val })]));
  claimMap.clearTracks();
  claimMap.clearMarks();
  const extra = [];
  if (r.target_lat_deg !== null) extra.push([r.target_lat_deg, r.target_lon_deg]);
  if (r.track) {
    claimMap.track(r.track, "#d1242f", `${r.satellite_name || r.satellite}: ground track ±25 min`, "claim");
    claimMap.setView(trackBBox(r.track, extra));
  } else {
    claimMap.setView(extra.length ? [extra[0][1] - 20, extra[0][0] - 10, extra[0][1] + 20, extra[0][0] + 10] : null);
  }
  if (r.target_lat_deg !== null) claimMap.star(r.target_lat_deg, r.target_lon_deg, r.target);
  if (r.at_claimed_time) claimMap.dot(r.at_claimed_time.nadir_lat_deg, r.at_claimed_time.nadir_lon_deg, `nadir at the claimed time ${fmtTime(r.at_claimed_time.time)}`);
  $("claim-map").dataset.verdict = r.verdict;
  show($("claim-result"), true);
  $("claim-verdict-heading").focus();
}

async function initClaims() {
  claimMap = new WorldMap($("claim-map"));
  const sites = await loadSites();
  $("site-names").replaceChildren(...sites.map((s) => el("option", { value: s.name })));
  $("claim-form").addEventListener("submit", submitClaim);
}

// ---- page: satellite ------------------------------------------------------------------------------------
let satMap = null;

async function openSatellite(ref) {
  showError("sat-error", null);
  $("sat-ref").value = ref;
  const q = encodeURIComponent(ref);
  try {
    const [detail, hist] = await withLoading("Loading the satellite", null, () => Promise.all([
      api(`/api/catalog/${q}`), api(`/api/history?sat=${q}`),
    ]));
    renderSatellite(detail, hist);
    const track = await withLoading("Ground track", null, () =>
      api(`/api/track?sat=${detail.norad_id}&start=${encodeURIComponent(detail.epoch)}&step_s=30`));
    satMap.clearTracks();
    satMap.track(track.points, "#d1242f", `${detail.name}: one orbit from ${fmtTime(detail.epoch)}`, "sat");
  } catch (err) {
    show($("sat-body"), false);
    $("sat-title").textContent = "Satellite";
    showError("sat-error", err);
  }
}

function renderSatellite(d, hist) {
  $("sat-title").textContent = `${d.name || "NORAD " + d.norad_id} (${d.norad_id})`;
  document.title = `${d.name} — overflight`;
  const facts = [
    ["International designator", d.intl_designator || "—"],
    ["Groups", d.groups || "—"],
    ["Latest epoch", `${fmtTime(d.epoch)} (${num(d.age_days, 1)} days ago)`],
    ["Orbit", `${d.orbit_class}, period ${num(d.period_min, 2)} min, inclination ${num(d.inclination_deg, 3)}°`],
    ["Perigee / apogee", `${num(d.perigee_alt_km, 1)} / ${num(d.apogee_alt_km, 1)} km`],
    ["Element sets stored", `${d.element_sets_stored} since ${fmtTime(d.first_epoch)}`],
  ];
  if (d.former_names) facts.push(["Former names", d.former_names]);
  // SATCAT metadata, shown where a satellite catalog was imported (overflight catalog import satcat.csv)
  if (d.owner) facts.push(["Owner (SATCAT)", d.owner]);
  if (d.object_type) facts.push(["Object type", d.object_type]);
  if (d.launch_date) facts.push(["Launch", d.launch_date + (d.launch_site ? ` from ${d.launch_site}` : "")]);
  if (d.decay_date) facts.push(["Decay", d.decay_date]);
  if (d.rcs_m2 !== null && d.rcs_m2 !== undefined) facts.push(["Radar cross-section", `${num(d.rcs_m2, 3)} m²`]);
  $("sat-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
  $("sat-tle").textContent = d.tle || "";
  renderHistoryChart(hist);
  const body = $("sat-maneuvers").querySelector("tbody");
  body.replaceChildren(...hist.maneuvers.map((m) => el("tr", {},
    el("td", {}, fmtTime(m.estimated_time)), el("td", { className: "num" }, m.time_uncertainty || "—"),
    el("td", {}, `${fmtTime(m.before_epoch)} → ${fmtTime(m.after_epoch)}`), el("td", { className: "num" }, num(m.delta_v_m_s, 3)),
    el("td", {}, m.kind + (m.confirmed ? "" : " (last set)")), el("td", { className: "num" }, num(m.delta_a_km, 3)),
    el("td", { className: "num" }, num(m.delta_perigee_km, 2)), el("td", { className: "num" }, num(m.delta_apogee_km, 2)))));
  const n = hist.maneuvers.length;
  // "No maneuver" only where the history could be examined: otherwise say why not.
  const gaps = (hist.data_gaps || []).map((g) => `data gap ${fmtTime(g.start)} → ${fmtTime(g.end)} (${num(g.days, 1)} days)`);
  let summary;
  if (hist.status === "not-enough-history") summary = `No answer: ${hist.reason}.`;
  else if (n) summary = `${n} maneuver${n > 1 ? "s" : ""} detected in ${hist.element_sets} element sets.`;
  else summary = `No maneuver detected in the ${hist.pairs_compared} pairs of element sets compared.`;
  if (hist.status === "data-gap") summary += ` Not examined: ${gaps.join("; ")} (gaps over ${num(hist.gap_threshold_days, 0)} days cannot bracket a maneuver).`;
  $("sat-maneuvers-summary").textContent = summary;
  const dc = hist.decay;
  $("sat-decay").textContent = dc
    ? `Decay (${dc.label}): perigee ${num(dc.perigee_alt_km, 1)} km, falling ${num(-dc.decay_rate_m_day, 1)} m/day; below ${dc.threshold_alt_km} km around ${fmtTime(dc.estimated_date).slice(0, 10)} ± ${num(dc.uncertainty_days, 0)} days (exponential atmosphere, today's drag, no further maneuvers).`
    : (hist.decay_reason ? `Decay: ${hist.decay_reason}.` : "");
  show($("sat-body"), true);
}

function renderHistoryChart(hist) {
  const svg = $("sat-chart");
  svg.replaceChildren();
  const width = 1000, height = 320, left = 64, right = 16, top = 24, bottom = 40;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const states = hist.history;
  if (!states.length) {
    svg.append(sv("text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, "No element sets stored."));
    return;
  }
  const ts = states.map((s) => Date.parse(s.epoch));
  let t0 = Math.min(...ts), t1 = Math.max(...ts);
  if (t1 - t0 < 3600e3) { t0 -= 43200e3; t1 += 43200e3; }
  const ys = states.flatMap((s) => [s.perigee_alt_km, s.apogee_alt_km]);
  let y0 = Math.min(...ys), y1 = Math.max(...ys);
  const pad = Math.max((y1 - y0) * 0.1, 0.5);
  y0 -= pad; y1 += pad;
  const x = (t) => left + (width - left - right) * (t - t0) / (t1 - t0);
  const y = (v) => top + (height - top - bottom) * (1 - (v - y0) / (y1 - y0));
  // grid and axes
  const yStep = niceStep((y1 - y0) / 6);
  for (let v = Math.ceil(y0 / yStep) * yStep; v <= y1; v += yStep) {
    svg.append(sv("line", { class: "grid", x1: left, x2: width - right, y1: y(v), y2: y(v) }));
    svg.append(sv("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, v.toFixed(yStep < 1 ? 1 : 0)));
  }
  const { ticks, step } = timeTicks(t0, t1);
  for (const t of ticks) {
    svg.append(sv("line", { class: "grid", x1: x(t), x2: x(t), y1: top, y2: height - bottom }));
    svg.append(sv("text", { x: x(t), y: height - bottom + 16, "text-anchor": "middle" }, tickLabel(t, step)));
  }
  svg.append(sv("line", { class: "axis", x1: left, x2: left, y1: top, y2: height - bottom }));
  svg.append(sv("line", { class: "axis", x1: left, x2: width - right, y1: height - bottom, y2: height - bottom }));
  svg.append(sv("text", { x: 14, y: top + (height - top - bottom) / 2, "text-anchor": "middle",
                          transform: `rotate(-90 14 ${top + (height - top - bottom) / 2})` }, "altitude km"));
  svg.append(sv("text", { x: width - right, y: height - 6, "text-anchor": "end" }, "epoch (UTC)"));
  // data gaps: spans where no maneuver could be bracketed (shaded, not a "quiet" stretch)
  for (const g of hist.data_gaps || []) {
    const gx0 = x(Date.parse(g.start)), gx1 = x(Date.parse(g.end));
    svg.append(svgTitle(sv("rect", { class: "data-gap", x: gx0, y: top, width: Math.max(gx1 - gx0, 1), height: height - top - bottom }),
                        `data gap ${fmtTime(g.start)} → ${fmtTime(g.end)} (${num(g.days, 1)} days): maneuvers there cannot be bracketed`));
  }
  // maneuvers
  for (const m of hist.maneuvers) {
    const t = m.estimated_time ? Date.parse(m.estimated_time)
      : (Date.parse(m.before_epoch) + Date.parse(m.after_epoch)) / 2;
    const line = sv("line", { class: "maneuver", x1: x(t), x2: x(t), y1: top, y2: height - bottom });
    svg.append(svgTitle(line, `maneuver ${fmtTime(m.estimated_time)}: Δv ${num(m.delta_v_m_s, 3)} m/s, ${m.kind}, Δa ${num(m.delta_a_km, 3)} km`));
    svg.append(sv("text", { class: "maneuver-label", x: x(t) + 3, y: top - 8 }, `Δv ${num(m.delta_v_m_s, 2)} m/s`));
  }
  // series
  for (const [key, cls] of [["perigee_alt_km", "perigee"], ["apogee_alt_km", "apogee"]]) {
    const d = states.map((s, i) => `${i ? "L" : "M"}${x(ts[i]).toFixed(1)},${y(s[key]).toFixed(1)}`).join("");
    svg.append(sv("path", { class: cls, d }));
    states.forEach((s, i) => {
      svg.append(svgTitle(sv("circle", { class: "pt-" + cls, cx: x(ts[i]), cy: y(s[key]), r: 2.6 }),
                          `${fmtTime(s.epoch)}: ${cls} ${num(s[key], 2)} km`));
    });
  }
  // legend
  const lg = sv("g", { transform: `translate(${left + 10},${top + 4})` });
  lg.append(sv("line", { class: "apogee", x1: 0, x2: 18, y1: 0, y2: 0 }), sv("text", { x: 22, y: 4 }, "apogee"));
  lg.append(sv("line", { class: "perigee", x1: 80, x2: 98, y1: 0, y2: 0 }), sv("text", { x: 102, y: 4 }, "perigee"));
  lg.append(sv("line", { class: "maneuver", x1: 160, x2: 178, y1: 0, y2: 0 }), sv("text", { x: 182, y: 4 }, "maneuver"));
  svg.append(lg);
  svg.dataset.points = String(states.length);
  svg.dataset.maneuvers = String(hist.maneuvers.length);
  svg.dataset.status = hist.status || "";
}

function niceStep(raw) {
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

function initSatellite() {
  satMap = new WorldMap($("sat-map"));
  $("sat-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const ref = $("sat-ref").value.trim();
    if (ref) location.hash = "#/sat/" + encodeURIComponent(ref);
  });
}

// ---- page: catalog search ---------------------------------------------------------------------------------
const catalog = { offset: 0, params: null };

async function searchCatalog(ev, more) {
  if (ev) ev.preventDefault();
  showError("catalog-error", null);
  const q = $("catalog-q").value.trim();
  const group = $("catalog-group").value;
  const body = $("catalog-table").querySelector("tbody");
  try {
    if (/^\d{1,9}$/.test(q)) {
      const d = await withLoading("Searching", null, () => api(`/api/catalog/${q}`));
      body.replaceChildren(catalogRow(d));
      $("catalog-summary").textContent = `NORAD ${q}: ${d.name}`;
      show($("catalog-table"), true);
      show($("catalog-more"), false);
      return;
    }
    if (!more) {
      catalog.offset = 0;
      const p = new URLSearchParams({ limit: "200" });
      if (q) p.set("name", /[*?]/.test(q) ? q : `*${q}*`);
      if (group) p.set("group", group);
      catalog.params = p;
    }
    const p = new URLSearchParams(catalog.params);
    p.set("offset", String(catalog.offset));
    const page = await withLoading("Searching", null, () => api("/api/catalog?" + p.toString()));
    const rows = page.items.map(catalogRow);
    if (more) body.append(...rows); else body.replaceChildren(...rows);
    catalog.offset = page.offset + page.items.length;
    $("catalog-summary").textContent = `${page.total} object${page.total === 1 ? "" : "s"} match in ${page.catalog}; showing ${catalog.offset}.`;
    show($("catalog-table"), true);
    show($("catalog-more"), catalog.offset < page.total);
    if (!more) $("catalog-summary").focus();
  } catch (err) {
    showError("catalog-error", err);
  }
}

function catalogRow(r) {
  return el("tr", {},
    el("td", { className: "num" }, r.norad_id),
    el("td", {}, el("a", { href: `#/sat/${r.norad_id}` }, r.name || `NORAD ${r.norad_id}`)),
    el("td", {}, fmtTime(r.epoch)), el("td", { className: "num" }, num(r.age_days, 1)),
    el("td", { className: "num" }, num(r.inclination_deg, 2)), el("td", { className: "num" }, num(r.perigee_alt_km, 0)),
    el("td", { className: "num" }, num(r.apogee_alt_km, 0)), el("td", {}, r.orbit_class), el("td", {}, r.groups),
    el("td", {}, r.owner || "—"), el("td", {}, r.object_type || "—"));
}

async function initCatalog() {
  const groups = await loadGroups();
  for (const g of groups) $("catalog-group").append(el("option", { value: g.group }, `${g.group} (${g.objects})`));
  $("catalog-form").addEventListener("submit", (ev) => searchCatalog(ev, false));
  $("catalog-more").addEventListener("click", () => searchCatalog(null, true));
}

// ---- routing ---------------------------------------------------------------------------------------------
function route() {
  const hash = location.hash || "#/passes";
  const parts = hash.slice(2).split("/");
  let page = parts[0] || "passes";
  if (!["passes", "claims", "catalog", "sat"].includes(page)) page = "passes";
  for (const sec of document.querySelectorAll(".page")) sec.hidden = sec.id !== "page-" + page;
  for (const a of document.querySelectorAll("nav a[data-page]")) {
    if (a.dataset.page === page) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  document.title = "overflight";
  if (page === "sat") {
    const ref = decodeURIComponent(parts.slice(1).join("/"));
    if (ref) openSatellite(ref);
  }
  const heading = document.querySelector(`#page-${page} h2`);
  if (heading && routed) heading.focus();
  routed = true;
}
let routed = false;

async function init() {
  initSatellite();
  window.addEventListener("hashchange", route);
  route();
  try {
    await Promise.all([initPasses(), initClaims(), initCatalog()]);
    const info = await api("/api/info");
    $("catalog-info").textContent = `${info.catalog} · overflight ${info.version}`;
    document.body.dataset.ready = "1";
  } catch (err) {
    showError("passes-error", err);
  }
}

document.addEventListener("DOMContentLoaded", init);
