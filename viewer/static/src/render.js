// One renderer per view type (vega-lite, kpi, table, mosaic), plus the Overview tile.
// Everything from the table or a declaration reaches the page as text (textContent) or as
// an <img> whose src is a data: URL built from the thumbnail bytes; never as markup.
import vegaEmbed from "vega-embed";
import { h, replaceChildren } from "./dom.js";
import { applyPalette, paletteColors } from "./palettes.js";
import { bytesToBase64 } from "./values.js";
import { viewVisible } from "./widgets.js";

export const BADGES = { file: "one point = one file", image: "one point = one image", slice: "one point = one slice" };
const AUTOSIZE = { type: "pad", contains: "padding" };
const TABLE_ROWS_SHOWN = 500;

/** Names of the named data sources a spec uses. */
function dataNames(node, out = new Set()) {
  if (Array.isArray(node)) node.forEach((v) => dataNames(v, out));
  else if (node && typeof node === "object") {
    if (node.data && typeof node.data === "object" && "name" in node.data) out.add(String(node.data.name));
    Object.values(node).forEach((v) => dataNames(v, out));
  }
  return out;
}

/** Rows without binary and nested values, which Vega-Lite cannot use. */
function chartable(rows) {
  return rows.map((row) => {
    const out = {};
    for (const [k, v] of Object.entries(row)) {
      if (!(v instanceof Uint8Array) && !(v !== null && typeof v === "object")) out[k] = v;
    }
    return out;
  });
}

/** A copy of `spec` whose named data sources carry the query results (as in render.py). */
export function chartSpec(spec, data, palette) {
  const out = structuredClone(spec);
  out.datasets = {};
  for (const name of dataNames(out)) if (name in data) out.datasets[name] = chartable(data[name]);
  out.autosize ??= AUTOSIZE;
  return applyPalette(out, palette);
}

async function drawChart(target, spec, data, palette) {
  const element = h("div", { class: "pp-chart" });
  target.append(element);
  await vegaEmbed(element, chartSpec(spec, data, palette), { actions: false, renderer: "svg" });
}

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];
const TILE_WIDTH = 200;

/** A value as display text, by declared `kind` (text, int, float, bytes, datetime). */
export function format(value, kind) {
  if (value === null || value === undefined) return "—";
  if (kind === "bytes" && typeof value === "number") {
    let size = value;
    let unit = 0;
    while (Math.abs(size) >= 1024 && unit < BYTE_UNITS.length - 1) { size /= 1024; unit += 1; }
    return unit === 0 ? `${Math.round(size).toLocaleString("en-US")} B` : `${size.toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 })} ${BYTE_UNITS[unit]}`;
  }
  if (kind === "datetime" && typeof value === "number") return new Date(value).toISOString().replace("T", " ").replace(/\.\d+Z$/, "");
  if (kind === "int" && typeof value === "number") return Math.round(value).toLocaleString("en-US");
  if (typeof value === "number") {
    return Number.isInteger(value) ? value.toLocaleString("en-US") : value.toPrecision(4).replace(/\.?0+$/, "");
  }
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function thumbnail(bytes) {
  return h("img", { class: "pp-thumb", src: "data:image/png;base64," + bytesToBase64(bytes), alt: "" });
}

function drawKpi(target, rows, view) {
  if (view.items) {
    const row = rows[0] || {};
    target.append(h("div", { class: "pp-kpis" }, view.items.map((item) =>
      h("div", { class: "pp-kpi" }, h("div", { class: "pp-kpi-label", text: item.label }), h("div", { class: "pp-kpi-value", text: format(row[item.column], item.format) })))));
    return;
  }
  if (rows.length === 1 && Object.keys(rows[0]).length <= 8) {
    target.append(
      h("div", { class: "pp-kpis" },
        Object.entries(rows[0]).map(([name, value]) =>
          h("div", { class: "pp-kpi" }, h("div", { class: "pp-kpi-label", text: name.replace(/_/g, " ") }), h("div", { class: "pp-kpi-value", text: format(value) })),
        ),
      ),
    );
  } else {
    drawTable(target, rows);
  }
}

/** A sortable, searchable table; binary cells are thumbnails, all other cells text. */
function drawTable(target, rows, view = {}) {
  const specs = view.columns || (rows.length ? Object.keys(rows[0]) : []).map((c) => ({ column: c, label: c }));
  const columns = specs.map((c) => c.column);
  const kinds = Object.fromEntries(specs.map((c) => [c.column, c.format]));
  const box = h("div", { class: "pp-table-box" });
  let sortKey = null;
  let descending = false;
  let needle = "";
  const body = h("tbody");
  const note = h("div", { class: "pp-note" });
  const redraw = () => {
    let shown = needle
      ? rows.filter((row) => columns.some((c) => typeof row[c] === "string" && row[c].includes(needle)))
      : rows.slice();
    if (sortKey !== null) {
      shown.sort((a, b) => {
        const [x, y] = [a[sortKey], b[sortKey]];
        if (x === y) return 0;
        if (x === null) return 1;
        if (y === null) return -1;
        return (x < y ? -1 : 1) * (descending ? -1 : 1);
      });
    }
    note.textContent = shown.length > TABLE_ROWS_SHOWN ? `showing ${TABLE_ROWS_SHOWN} of ${shown.length} rows` : `${shown.length} rows`;
    shown = shown.slice(0, TABLE_ROWS_SHOWN);
    replaceChildren(body, shown.map((row) =>
      h("tr", {}, columns.map((c) => h("td", {}, row[c] instanceof Uint8Array ? thumbnail(row[c]) : format(row[c], kinds[c])))),
    ));
  };
  const head = h("tr", {}, specs.map(({ column: c, label }) =>
    h("th", { title: "sort", onclick: () => { descending = sortKey === c ? !descending : false; sortKey = c; redraw(); } }, label || c),
  ));
  const search = h("input", { type: "search", class: "pp-search", placeholder: "search text", oninput: (e) => { needle = e.target.value; redraw(); } });
  box.append(view.columns && !view.searchable ? "" : search, h("div", { class: "pp-table-scroll" }, h("table", { class: "pp-table" }, h("thead", {}, head), body)), note);
  redraw();
  target.append(box);
}

/** Thumbnails in a grid, a border colour per group, and the colour legend. */
function drawMosaic(target, rows, palette, view = {}) {
  const blobColumn = view.image || (rows.length ? Object.keys(rows[0]).find((c) => rows.some((r) => r[c] instanceof Uint8Array)) : undefined);
  const groupColumn = view.color || "group";
  if (!blobColumn) {
    target.append(h("p", { class: "pp-note", text: "No thumbnails in the selected rows." }));
    return;
  }
  const groups = [...new Set(rows.map((r) => String(r[groupColumn] ?? "")))];
  const colors = paletteColors(palette, Math.max(groups.length, 1));
  const colorOf = Object.fromEntries(groups.map((g, i) => [g, colors[i % colors.length]]));
  const grid = h("div", { class: "pp-mosaic" });
  for (const row of rows) {
    const label = [view.label, "name", "path"].map((k) => row[k]).find((v) => typeof v === "string") || "";
    const title = view.value ? `${label}\n${view.value}: ${format(row[view.value])}` : label;
    const cell = h("div", { class: "pp-mosaic-cell", title });
    cell.style.borderColor = colorOf[String(row[groupColumn] ?? "")];
    if (row[blobColumn]) cell.append(thumbnail(row[blobColumn]));
    grid.append(cell);
  }
  const legend = h("div", { class: "pp-legend" }, groups.map((g) => {
    const swatch = h("span", { class: "pp-swatch" });
    swatch.style.background = colorOf[g];
    return h("span", { class: "pp-legend-item" }, swatch, g);
  }));
  target.append(grid, legend);
}

/** Draw every visible view of a widget into `target`. */
export async function drawViews(target, widget, data, palette, controls) {
  for (const view of widget.specs) {
    if (!viewVisible(view, data, controls)) continue;
    const rows = data[view.query] || [];
    const box = h("div", { class: "pp-view", dataset: { view: view.id || view.type } });
    if (view.title) box.append(h("h4", { text: view.title }));
    target.append(box);
    if (view.type === "vega-lite") await drawChart(box, view.spec, data, palette);
    else if (view.type === "kpi") drawKpi(box, rows, view);
    else if (view.type === "table") drawTable(box, rows, view);
    else if (view.type === "mosaic") drawMosaic(box, rows, palette, view);
  }
}

/** A tile-sized copy of an overview spec: narrow, legend below (as the Streamlit app). */
function compact(spec) {
  const out = { ...spec };
  if (typeof out.width !== "number" || out.width > TILE_WIDTH) out.width = TILE_WIDTH;
  const config = { ...(out.config || {}) };
  config.legend = { ...(config.legend || {}), orient: "bottom", columns: 3 };
  out.config = config;
  return out;
}

/** The Overview tile's content: a one-line summary and a small chart. */
export async function drawOverview(target, widget, data, palette, controls = {}) {
  const overview = widget.overview;
  if (!overview) {
    if (widget.description) target.append(h("p", { class: "pp-note", text: widget.description }));
    return;
  }
  const rows = data[overview.query] || [];
  if (overview.text) {
    const values = Object.fromEntries(Object.entries(controls).map(([k, v]) => [k, v && typeof v === "object" && "name" in v ? v.name : v]));
    target.append(h("p", { class: "pp-summary", text: fillSummary(overview.text, { ...values, ...(rows[0] || {}) }) }));
  }
  if (overview.spec) await drawChart(target, compact(overview.spec), data, palette);
}

/** `{key}` in a summary line becomes that value (first row's columns, control values). */
export function fillSummary(text, values) {
  let out = String(text);
  for (const [key, value] of Object.entries(values)) out = out.split("{" + key + "}").join(format(value));
  return out;
}
