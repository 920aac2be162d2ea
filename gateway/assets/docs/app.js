// The interactive API docs: fetches /api/v1/openapi.json, lists every operation by tag,
// and sends requests from the page. Everything is built with DOM calls and textContent,
// never innerHTML, so nothing in the document can inject markup.
"use strict";

const SPEC_URL = "/api/v1/openapi.json";
const METHODS = ["get", "post", "put", "patch", "delete", "head", "options"];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children.flat()) {
    if (child == null) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function resolve(spec, schema) {
  let seen = 0;
  while (schema && schema.$ref && seen++ < 32) {
    const name = schema.$ref.split("/").pop();
    schema = (spec.components && spec.components.schemas || {})[name];
  }
  return schema || {};
}

// A plausible example body for a schema, to start the request editor from.
function sample(spec, schema, depth = 0) {
  schema = resolve(spec, schema);
  if (depth > 6) return null;
  if (schema.example !== undefined) return schema.example;
  if (schema.examples && schema.examples.length) return schema.examples[0];
  if (schema.enum) return schema.enum[0];
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((s) => sample(spec, s, depth + 1)));
  if (schema.oneOf || schema.anyOf) return sample(spec, (schema.oneOf || schema.anyOf)[0], depth + 1);
  let type = schema.type;
  if (Array.isArray(type)) type = type.find((t) => t !== "null") || "null";
  switch (type) {
    case "object": {
      const out = {};
      for (const [k, v] of Object.entries(schema.properties || {})) out[k] = sample(spec, v, depth + 1);
      return out;
    }
    case "array": return [sample(spec, schema.items || {}, depth + 1)];
    case "integer": return 0;
    case "number": return 0;
    case "boolean": return false;
    case "string":
      if (schema.format === "uuid") return "00000000-0000-0000-0000-000000000000";
      if (schema.format === "date-time") return new Date().toISOString();
      return "string";
    default: return null;
  }
}

function schemaName(schema) {
  if (!schema) return "";
  if (schema.$ref) return schema.$ref.split("/").pop();
  if (schema.type === "array" && schema.items) return schemaName(schema.items) + "[]";
  return Array.isArray(schema.type) ? schema.type.join(" | ") : schema.type || "";
}

function operationView(spec, path, method, op) {
  const params = (op.parameters || []).map((p) => resolve(spec, p));
  const inputs = {};
  const paramRows = params.map((p) => {
    const input = el("input", { placeholder: schemaName(p.schema) });
    inputs[p.in + ":" + p.name] = input;
    return el("tr", {},
      el("td", {}, el("code", {}, p.name), p.required ? " *" : ""),
      el("td", {}, p.in),
      el("td", {}, p.description || ""),
      el("td", {}, input));
  });

  const content = op.requestBody && resolve(spec, op.requestBody).content || {};
  const bodyType = Object.keys(content)[0];
  const body = bodyType
    ? el("textarea", { rows: "8", spellcheck: "false" },
        JSON.stringify(sample(spec, content[bodyType].schema), null, 2))
    : null;

  const responses = Object.entries(op.responses || {}).map(([status, r]) => {
    r = resolve(spec, r);
    const media = Object.entries(r.content || {})[0];
    return el("li", {}, el("strong", {}, status), " ", r.description || "",
      media ? el("span", { class: "schema" }, " " + media[0] + " " + schemaName(media[1].schema)) : null);
  });

  const result = el("pre", { class: "result", hidden: "" });
  async function send() {
    let url = path;
    const query = new URLSearchParams();
    const headers = {};
    for (const p of params) {
      const value = inputs[p.in + ":" + p.name].value;
      if (value === "") continue;
      if (p.in === "path") url = url.replace("{" + p.name + "}", encodeURIComponent(value));
      else if (p.in === "query") query.append(p.name, value);
      else if (p.in === "header") headers[p.name] = value;
    }
    if (query.toString()) url += "?" + query;
    const token = document.getElementById("token").value.trim();
    if (token) headers.Authorization = "Bearer " + token;
    const init = { method: method.toUpperCase(), headers };
    if (body) {
      headers["Content-Type"] = bodyType;
      init.body = body.value;
    }
    result.hidden = false;
    result.textContent = "…";
    try {
      const started = performance.now();
      const response = await fetch(url, init);
      const text = await response.text();
      let shown = text;
      try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { /* not JSON */ }
      const ms = Math.round(performance.now() - started);
      const lines = [response.status + " " + response.statusText + " (" + ms + " ms)"];
      for (const name of ["content-type", "x-request-id", "x-consistency-token", "retry-after", "location"]) {
        const v = response.headers.get(name);
        if (v) lines.push(name + ": " + v);
      }
      result.textContent = lines.join("\n") + "\n\n" + shown;
    } catch (e) {
      result.textContent = "request failed: " + e;
    }
  }

  const locked = (op.security || spec.security || []).some((s) => Object.keys(s).length > 0);
  return el("details", { class: "op " + method },
    el("summary", {},
      el("span", { class: "method" }, method.toUpperCase()),
      el("code", { class: "path" }, path),
      el("span", { class: "summary" }, op.summary || ""),
      locked ? el("span", { class: "lock", title: "needs a bearer token" }, "🔒") : null),
    op.description && op.description !== op.summary ? el("p", {}, op.description) : null,
    paramRows.length ? el("table", {}, el("tbody", {}, paramRows)) : null,
    body ? el("div", {}, el("h4", {}, "Body (" + bodyType + ")"), body) : null,
    el("h4", {}, "Responses"), el("ul", {}, responses),
    el("button", { type: "button", onclick: send }, "Send"),
    result);
}

function render(spec) {
  const info = spec.info || {};
  document.title = info.title || document.title;
  document.getElementById("title").textContent = info.title || "API";
  document.getElementById("version").textContent = "version " + (info.version || "?") + " · OpenAPI " + spec.openapi;
  document.getElementById("description").textContent = info.description || "";

  const byTag = new Map();
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = (op.tags && op.tags[0]) || "default";
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operationView(spec, path, method, op));
    }
  }
  const tagInfo = new Map((spec.tags || []).map((t) => [t.name, t.description || ""]));
  const main = document.getElementById("operations");
  main.replaceChildren();
  for (const [tag, ops] of [...byTag.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    main.append(el("section", {}, el("h2", {}, tag), el("p", { class: "tag" }, tagInfo.get(tag) || ""), ops));
  }
}

window.addEventListener("DOMContentLoaded", async () => {
  const token = document.getElementById("token");
  token.value = sessionStorage.getItem("ultramarket.token") || "";
  token.addEventListener("change", () => sessionStorage.setItem("ultramarket.token", token.value));
  try {
    const response = await fetch(SPEC_URL);
    if (!response.ok) throw new Error(response.status + " " + response.statusText);
    render(await response.json());
  } catch (e) {
    document.getElementById("operations").replaceChildren(el("p", { class: "error" }, "Could not load " + SPEC_URL + ": " + e));
  }
});
