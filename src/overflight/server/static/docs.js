// Offline API docs: renders /openapi.json with plain DOM (no Swagger UI, no CDN).
"use strict";

function h(tag, attrs, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k === "text") n.textContent = v; else if (k === "className") n.className = v; else n.setAttribute(k, v);
  }
  for (const c of kids) if (c !== null && c !== undefined) n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return n;
}

function typeOf(s) {
  if (!s) return "";
  if (s.$ref) { const name = s.$ref.split("/").pop(); return h("a", { href: "#schema-" + name }, name); }
  if (s.anyOf) {
    const span = h("span");
    s.anyOf.forEach((x, i) => { if (i) span.append(" | "); span.append(typeOf(x)); });
    return span;
  }
  if (s.type === "array") { const span = h("span", {}, "list of "); span.append(typeOf(s.items)); return span; }
  if (s.enum) return s.enum.map((x) => JSON.stringify(x)).join(" | ");
  return s.type || "any";
}

function describeLimits(s) {
  const out = [];
  for (const [k, label] of [["minimum", "≥"], ["exclusiveMinimum", ">"], ["maximum", "≤"], ["exclusiveMaximum", "<"]]) {
    if (s && s[k] !== undefined) out.push(`${label} ${s[k]}`);
  }
  if (s && s.pattern) out.push(`pattern ${s.pattern}`);
  return out.join(", ");
}

function paramTable(params) {
  const body = h("tbody");
  for (const p of params) {
    const s = p.schema || {};
    body.append(h("tr", {}, h("td", { className: "mono" }, p.name), h("td", {}, p.in), h("td", {}, typeOf(s)),
      h("td", {}, p.required ? "yes" : ""), h("td", {}, s.default === undefined ? "" : JSON.stringify(s.default)),
      h("td", {}, [p.description || s.description || "", describeLimits(s)].filter(Boolean).join("; "))));
  }
  return h("table", { className: "data" },
    h("thead", {}, h("tr", {}, ...["name", "in", "type", "required", "default", "notes"].map((t) => h("th", { scope: "col" }, t)))), body);
}

function render(spec) {
  const root = document.getElementById("endpoints");
  root.replaceChildren();
  const toc = h("ul");
  const schemas = (spec.components || {}).schemas || {};
  let n = 0;
  for (const [path, ops] of Object.entries(spec.paths || {})) {
    for (const [method, op] of Object.entries(ops)) {
      const id = `op-${n++}`;
      toc.append(h("li", {}, h("a", { href: "#" + id }, `${method.toUpperCase()} ${path}`)));
      const box = h("section", { className: "endpoint", id, "aria-labelledby": id + "-h" });
      box.append(h("h3", { id: id + "-h" }, h("span", { className: "method " + method }, method.toUpperCase()), path));
      if (op.summary) box.append(h("p", {}, op.summary));
      if (op.description) box.append(h("p", { className: "muted" }, op.description));
      let params = op.parameters || [];
      // Query models are expanded by FastAPI into single parameters already.
      if (params.length) box.append(h("h4", {}, "Parameters"), paramTable(params));
      const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
      if (body) {
        const p = h("p", {}, "JSON body: ");
        p.append(typeOf(body.schema));
        box.append(h("h4", {}, "Request body"), p);
      }
      const rs = h("ul");
      for (const [code, r] of Object.entries(op.responses || {})) {
        const c = r.content && r.content["application/json"];
        const li = h("li", {}, h("strong", {}, code), " ", r.description || "");
        if (c && c.schema) { li.append(" → "); li.append(typeOf(c.schema)); }
        rs.append(li);
      }
      box.append(h("h4", {}, "Responses"), rs);
      root.append(box);
    }
  }
  document.getElementById("toc").replaceChildren(toc);
  const sroot = document.getElementById("schemas");
  for (const [name, s] of Object.entries(schemas)) {
    const sec = h("section", { className: "schema", id: "schema-" + name });
    sec.append(h("h3", {}, name));
    if (s.description) sec.append(h("p", {}, s.description));
    const body = h("tbody");
    const req = new Set(s.required || []);
    for (const [field, fs] of Object.entries(s.properties || {})) {
      body.append(h("tr", {}, h("td", { className: "mono" }, field), h("td", {}, typeOf(fs)), h("td", {}, req.has(field) ? "yes" : ""),
        h("td", {}, [fs.description || "", describeLimits(fs)].filter(Boolean).join("; "))));
    }
    if (s.properties) {
      sec.append(h("table", { className: "data" },
        h("thead", {}, h("tr", {}, ...["field", "type", "required", "notes"].map((t) => h("th", { scope: "col" }, t)))), body));
    }
    sroot.append(sec);
  }
  document.body.dataset.ready = "1";
}

fetch("/openapi.json").then((r) => r.json()).then(render).catch((err) => {
  document.getElementById("endpoints").textContent = "Could not load /openapi.json: " + err;
});
