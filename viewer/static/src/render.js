// One renderer per view type (vega-lite, kpi, table, mosaic), plus the Overview tile.
// Everything from the table or a declaration reaches the page as text (textContent) or as
// an <img> whose src is a data: URL built from the thumbnail bytes; never as markup.
import vegaEmbed from "vega-embed";
import { h, replaceChildren } from "./dom.js";
import { formatValue as format, kpiCards, overviewText } from "./formats.js";
import { applyPalette, GROUP_DOMAIN_KEY, groupColors } from "./palettes.js";
import { chartSpec, tileSpec } from "./specs.js";
import { bytesToBase64 } from "./values.js";
import { viewVisible } from "./widgets.js";

const TABLE_ROWS_SHOWN = 500;

// Charts load nothing: Vega's loader (data URLs, image marks, href links) refuses every
// address, and tooltips show each value as escaped text (no <img> from an `image` field).
const refuse = (uri) => Promise.reject(new Error(`PixelPatrol viewer: charts load nothing (${uri})`));
const NO_LOADER = { load: refuse, sanitize: refuse, http: refuse, file: refuse };
const escapeHtml = (value) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const cell = (value) => escapeHtml(value !== null && typeof value === "object" ? JSON.stringify(value) : value);

/** A tooltip's HTML (vega-tooltip's formatTooltip), every key and value escaped. */
export function tooltipHtml(value) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return cell(value);
  const { title, ...rest } = value;
  const head = title === undefined ? "" : `<h2>${cell(title)}</h2>`;
  const rows = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<tr><td class="key">${escapeHtml(k)}</td><td class="value">${cell(v)}</td></tr>`);
  return `${head}${rows.length ? `<table>${rows.join("")}</table>` : ""}` || "{}";
}

async function drawChart(target, spec) {
  const element = h("div", { class: "pp-chart" });
  target.append(element);
  await vegaEmbed(element, spec, {
    actions: false,
    renderer: "svg",
    loader: NO_LOADER,
    tooltip: { formatTooltip: tooltipHtml, sanitize: escapeHtml },
  });
}

function thumbnail(bytes) {
  return h("img", { class: "pp-thumb", src: `data:image/png;base64,${bytesToBase64(bytes)}`, alt: "" });
}

function drawKpi(target, rows, view) {
  const cards = kpiCards(view, rows);
  if (!cards.length) {
    target.append(h("p", { class: "pp-note", text: "No rows." }));
    return;
  }
  target.append(
    h(
      "div",
      { class: "pp-kpis" },
      cards.map(([label, value]) =>
        h(
          "div",
          { class: "pp-kpi" },
          h("div", { class: "pp-kpi-label", text: label }),
          h("div", { class: "pp-kpi-value", text: value }),
        ),
      ),
    ),
  );
}

/**
 * The image a row of a view with `open_image` ({path, child_id?} column names) opens, as
 * {path, child_id}; an empty child id is none (the Images table shows none as ""). Null
 * for a row without a path.
 */
export function rowImage(row, spec) {
  const path = row[spec.path];
  if (typeof path !== "string") return null;
  const child = spec.child_id ? row[spec.child_id] : null;
  return { path, child_id: child === null || child === undefined || child === "" ? null : String(child) };
}

function openButton(row, spec, actions) {
  const image = rowImage(row, spec);
  if (!image || !actions.openImage) return "";
  return h("button", {
    type: "button",
    class: "pp-open-image",
    title: `open the view of ${image.path}`,
    dataset: { path: image.path },
    text: "Open",
    onclick: () => actions.openImage(image),
  });
}

/** A sortable, searchable table; binary cells are thumbnails, all other cells text. With
 * `open_image`, a first column of "Open" buttons, each opening its row's image view. */
function drawTable(target, rows, view = {}, actions = {}) {
  const opener = view.open_image && actions.openImage ? view.open_image : null;
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
    note.textContent =
      shown.length > TABLE_ROWS_SHOWN ? `showing ${TABLE_ROWS_SHOWN} of ${shown.length} rows` : `${shown.length} rows`;
    shown = shown.slice(0, TABLE_ROWS_SHOWN);
    replaceChildren(
      body,
      shown.map((row) =>
        h(
          "tr",
          {},
          opener ? h("td", {}, openButton(row, opener, actions)) : null,
          columns.map((c) => h("td", {}, row[c] instanceof Uint8Array ? thumbnail(row[c]) : format(row[c], kinds[c]))),
        ),
      ),
    );
  };
  const head = h(
    "tr",
    {},
    opener ? h("th", {}, "") : null,
    specs.map(({ column: c, label }) =>
      h(
        "th",
        {
          title: "sort",
          onclick: () => {
            descending = sortKey === c ? !descending : false;
            sortKey = c;
            redraw();
          },
        },
        label || c,
      ),
    ),
  );
  const search = h("input", {
    type: "search",
    class: "pp-search",
    placeholder: "search text",
    oninput: (e) => {
      needle = e.target.value;
      redraw();
    },
  });
  box.append(
    view.columns && !view.searchable ? "" : search,
    h("div", { class: "pp-table-scroll" }, h("table", { class: "pp-table" }, h("thead", {}, head), body)),
    note,
  );
  redraw();
  target.append(box);
}

/** Thumbnails in a grid, a border colour per group, and the colour legend. */
function drawMosaic(target, rows, palette, view = {}, domain = null, actions = {}) {
  const blobColumn =
    view.image ||
    (rows.length ? Object.keys(rows[0]).find((c) => rows.some((r) => r[c] instanceof Uint8Array)) : undefined);
  const groupColumn = view.color || "group";
  if (!blobColumn) {
    target.append(h("p", { class: "pp-note", text: "No thumbnails in the selected rows." }));
    return;
  }
  const shown = rows.map((r) => String(r[groupColumn] ?? ""));
  const colorOf = Object.fromEntries(groupColors(shown, palette, domain));
  const present = new Set(shown);
  const groups = Object.keys(colorOf).filter((g) => present.has(g));
  const grid = h("div", { class: "pp-mosaic" });
  for (const row of rows) {
    const label = [view.label, "name", "path"].map((k) => row[k]).find((v) => typeof v === "string") || "";
    const title = view.value ? `${label}\n${view.value}: ${format(row[view.value])}` : label;
    const image = view.open_image && actions.openImage ? rowImage(row, view.open_image) : null;
    const cell = image
      ? h("button", {
          type: "button",
          class: "pp-mosaic-cell pp-open-image",
          title,
          dataset: { path: image.path },
          onclick: () => actions.openImage(image),
        })
      : h("div", { class: "pp-mosaic-cell", title });
    cell.style.borderColor = colorOf[String(row[groupColumn] ?? "")];
    if (row[blobColumn]) cell.append(thumbnail(row[blobColumn]));
    grid.append(cell);
  }
  const legend = h(
    "div",
    { class: "pp-legend" },
    groups.map((g) => {
      const swatch = h("span", { class: "pp-swatch" });
      swatch.style.background = colorOf[g];
      return h("span", { class: "pp-legend-item", dataset: { colour: colorOf[g] } }, swatch, g);
    }),
  );
  target.append(grid, legend);
}

/** Draw every visible view of a widget into `target`; `actions.openImage(image)` opens the
 * single-image view (views with `open_image`). */
export async function drawViews(target, widget, data, palette, controls, actions = {}) {
  const domain = data[GROUP_DOMAIN_KEY] || null;
  for (const view of widget.specs) {
    if (!viewVisible(view, data, controls)) continue;
    const rows = data[view.query] || [];
    const box = h("div", { class: "pp-view", dataset: { view: view.id || view.type } });
    if (view.title) box.append(h("h4", { text: view.title }));
    target.append(box);
    const spec = view.type === "vega-lite" ? applyPalette(chartSpec(view.spec, data, palette), palette, domain) : null;
    if (spec) await drawChart(box, spec);
    else if (view.type === "kpi") drawKpi(box, rows, view);
    else if (view.type === "table") drawTable(box, rows, view, actions);
    else if (view.type === "mosaic") drawMosaic(box, rows, palette, view, domain, actions);
  }
}

/** The Overview tile's content: a one-line summary and a small chart. */
export async function drawOverview(target, widget, data, palette, controls = {}) {
  const overview = widget.overview;
  if (!overview) {
    if (widget.description) target.append(h("p", { class: "pp-note", text: widget.description }));
    return;
  }
  const rows = data[overview.query] || [];
  const summary = overview.text ? overviewText(overview.text, rows, controls) : null;
  if (summary !== null) target.append(h("p", { class: "pp-summary", text: summary }));
  const domain = data[GROUP_DOMAIN_KEY] || null;
  if (overview.spec) await drawChart(target, applyPalette(tileSpec(overview.spec, data, palette), palette, domain));
}
