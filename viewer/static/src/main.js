// The static viewer's entry: sidebar state, table loading, widget rendering. Mirrors the
// Streamlit app (viewer/): the same declarations, the same compiled SQL, the same
// Vega-Lite specs. The browser tests' hook lives in test-hook.js, an entry of its own
// that only the test bundle has (build.mjs); the product bundle is this file alone.
// The page's address is untrusted: `?data=` from another origin waits for the user's
// confirmation (source.js), and the bookmark parameters are checked (bookmark.js).
import { embeddedData, embeddedWidgets } from "./assets.js";
import { checkBookmark, paramText, probeBookmark, readBookmark, toQuery } from "./bookmark.js";
import { compileSql } from "./compile.js";
import { loadParquet, loadQcTables, openDatabase, parquetMetadata, preloadParquet, TABLE } from "./db.js";
import { h, replaceChildren } from "./dom.js";
import { badgeText, headerFacts, hiddenNote } from "./formats.js";
import { GROUP_FIRST } from "./grouping.js";
import { GROUP_DOMAIN_KEY, GROUP_DOMAIN_SQL, groupDomain } from "./palettes.js";
import { askToLoad, drawNotices } from "./prompt.js";
import { drawOverview, drawViews } from "./render.js";
import { drawSidebar } from "./sidebar.js";
import { dataSource, fetchOptions, reportName } from "./source.js";
import { tableRows, toCsv } from "./values.js";
import { compileWidget, defaultGroupCol, imageViewState, missingColumns, resolveControls } from "./widgets.js";

export const widgets = embeddedWidgets();
export const state = {
  group_col: null,
  filters: [],
  dims: {},
  controls: {},
  widgets_excluded: [],
  is_show_significance: false,
  palette: null,
  mode: "issues",
  image: null, // {path, child_id}: the single-image view; null shows the report
};
export const app = {
  db: null,
  columns: {},
  fileName: null,
  metadata: {},
  compiled: {},
  results: {},
  errors: [],
  notices: [],
  source: null,
  renderCount: 0,
  cache: new Map(),
  deferred: [], // columns not yet in pp_data (see db.js loadParquet); queries naming them wait
  fill: null, // loads them; null once started
  filling: Promise.resolve(),
};
let renderToken = 0;
let currentRender = Promise.resolve();
let bookmark = readBookmark(window.location.search); // applied to the first table, then dropped
let publishedImage = null; // the image the address names, as imageKey gives it
const imageKey = (image) => (image ? JSON.stringify([image.path, image.child_id]) : null);

const el = (id) => document.getElementById(id);
const status = (text) => {
  el("pp-status").textContent = text;
};

/** The names SQL `text` may use as columns: its quoted identifiers and its bare words. */
function sqlNames(text) {
  const names = new Set();
  for (const match of String(text).matchAll(/"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_]*)/g)) {
    names.add(match[1] === undefined ? match[2] : match[1].replace(/""/g, '"'));
  }
  return names;
}

/** Whether `text` may read a column still deferred (db.js loadParquet): it names one, or
 * reads columns by pattern or every column of pp_data. */
function readsDeferred(text) {
  if (!app.deferred.length) return false;
  if (/COLUMNS\s*\(|SELECT\s+\*\s+FROM\s+pp_data\b|\bpp_data\s*\.\s*\*/i.test(text)) return true;
  const names = sqlNames(text);
  return app.deferred.some((name) => names.has(name));
}

/** Rows of `text` with positional `params`, as plain objects (once every column it may read
 * is loaded). */
export async function sql(text, params = []) {
  if (readsDeferred(text)) await fullTable();
  const conn = await app.db.connect();
  try {
    if (!params.length) return tableRows(await conn.query(text));
    const statement = await conn.prepare(text);
    try {
      return tableRows(await statement.query(...params));
    } finally {
      await statement.close();
    }
  } finally {
    await conn.close();
  }
}

async function cachedSql(text, params) {
  const key = `${text}\u0000${JSON.stringify(params)}`;
  if (!app.cache.has(key)) app.cache.set(key, sql(text, params));
  return app.cache.get(key);
}

function viewState() {
  return { group_col: state.group_col, filters: state.filters, dims: state.dims, controls: state.controls };
}

/** The state the page's widgets run with: the report, or the report restricted to the image. */
function pageState() {
  return imageViewState({ ...viewState(), image: state.image });
}

/** A `performance` measure named `pp:<name>` from `startMark` to now (bench_static_viewer.py
 * reads them to say where a first draw's time goes). */
function measure(name, startMark) {
  try {
    performance.measure(`pp:${name}`, startMark);
  } catch {
    // a mark cleared by the page: no measure
  }
}

/** Columns the Issues page's declarations may name (requires, the names in their SQL, column
 * controls) and the default grouping's: loaded before its first draw. */
function issuesColumns() {
  const names = new Set(GROUP_FIRST);
  for (const widget of widgets.filter((w) => w.page === "issues")) {
    for (const name of widget.requires || []) names.add(name);
    for (const text of Object.values(widget.queries || {})) for (const name of sqlNames(text)) names.add(name);
    for (const control of widget.controls || []) for (const option of control.options || []) names.add(option);
  }
  return names;
}

/** pp_data's columns and their DuckDB types, in table order. */
async function tableColumns() {
  const rows = await sql(
    "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
    [TABLE],
  );
  return Object.fromEntries(rows.map((r) => [r.column_name, r.data_type]));
}

/** Run the widgets' prepare statements (tables some declarations read); those that read a
 * deferred column run once it is loaded (fullTable). */
async function prepareWidgets() {
  for (const widget of widgets) {
    if (missingColumns(widget, app.columns).length) continue;
    for (const statement of widget.prepare || []) if (!readsDeferred(statement)) await sql(statement);
  }
}

/** Resolves once pp_data holds every column: starts loading the deferred ones if needed. */
function fullTable() {
  if (app.fill) {
    const fill = app.fill;
    app.fill = null;
    status(`Loading the rest of ${app.fileName} (${app.deferred.join(", ")}) ...`);
    performance.mark("pp:fill-start");
    app.filling = fill()
      .then(async () => {
        measure("deferred", "pp:fill-start");
        app.deferred = [];
        app.cache.clear();
        app.columns = await tableColumns(); // the same columns, now in the file's order
        await prepareWidgets();
        status(`${app.fileName}: every column loaded`);
      })
      .catch((error) => {
        // the views that need those columns then fail with DuckDB's message, each in its card
        app.errors.push(String(error?.stack ? error.stack : error));
        status(`Error loading the rest of ${app.fileName}: ${error.message || error}`);
      });
  }
  return app.filling;
}

async function loadTable(bytes, name) {
  await app.filling.catch(() => {}); // a table still filling in is not swapped under a new one
  status(`Loading ${name} ...`);
  performance.mark("pp:load-start");
  const loaded = await loadParquet(app.db, bytes, issuesColumns());
  const deferred = loaded.deferred.map((c) => c.name);
  Object.assign(app, { deferred, fill: deferred.length ? loaded.fill : null });
  measure("parquet", "pp:load-start");
  app.cache.clear();
  app.fileName = name;
  const footer = await parquetMetadata(bytes);
  try {
    app.metadata = JSON.parse(footer.pixel_patrol || "{}");
  } catch {
    app.metadata = {};
  }
  await loadQcTables(app.db, app.metadata.qc);
  // the deferred columns too (typed as DuckDB reads them): no query reads them before they load
  app.columns = { ...(await tableColumns()), ...Object.fromEntries(loaded.deferred.map((c) => [c.name, c.type])) };
  performance.mark("pp:prepare-start");
  await prepareWidgets();
  measure("prepare", "pp:prepare-start");
  Object.assign(state, {
    group_col: await defaultGroupCol(app.columns, sql),
    filters: [],
    dims: {},
    controls: {},
    image: null,
  });
  if (bookmark) await applyBookmark();
  publishedImage = imageKey(state.image); // the address already names it: no history entry
  drawHeader();
  await rerender();
}

/** Apply the address's bookmark to the state; every dropped parameter becomes a notice. */
async function applyBookmark() {
  const pairs = bookmark;
  bookmark = null;
  const { patch, notices } = checkBookmark(pairs, app.columns, widgets);
  const probed = await probeBookmark({ ...state, ...patch }, app.columns, widgets, cachedSql);
  Object.assign(state, probed.state);
  showNotices([...notices, ...probed.notices]);
}

function showNotices(notices) {
  app.notices.push(...notices);
  drawNotices(el("pp-notices"), app.notices);
}

/** Mirror the state in the address, so the view can be bookmarked: replaceState, except when
 * the image opens or closes, which gets a history entry of its own (back returns). */
function publish() {
  const query = toQuery(state);
  const given = new URLSearchParams(window.location.search);
  if (app.source && given.has("data")) query.set("data", given.get("data"));
  try {
    const url = new URL(window.location.href);
    url.search = query.toString();
    const push = imageKey(state.image) !== publishedImage;
    publishedImage = imageKey(state.image);
    if (push) window.history.pushState(null, "", url);
    else if (url.href !== window.location.href) window.history.replaceState(null, "", url);
  } catch {
    // some hosts (file: in a few browsers) refuse address changes: the view still works
  }
}

function drawHeader() {
  const meta = app.metadata;
  // what a user asks about, as pp_viewer/header.py USER_FACTS; no rows or shard bookkeeping
  const given = meta.counts || {};
  const userFacts = { files_found: "files_found", images: "images", failed: "failed_to_load" };
  const counts = Object.fromEntries(
    Object.entries(userFacts)
      .filter(([key]) => key in given)
      .map(([key, shownAs]) => [shownAs, given[key]]),
  );
  const facts = headerFacts(counts).map(([label, value]) =>
    h("span", { class: "pp-fact" }, h("b", { text: value }), ` ${label}`),
  );
  replaceChildren(
    el("pp-header"),
    h("h1", { text: meta.project_name || app.fileName || "PixelPatrol" }),
    h("p", {
      class: "pp-meta",
      text: [meta.flavor && `flavor: ${meta.flavor}`, app.fileName && `table: ${app.fileName}`]
        .filter(Boolean)
        .join(" · "),
    }),
    meta.description ? h("p", { class: "pp-description", text: meta.description }) : null,
    h("div", { class: "pp-facts" }, facts),
  );
}

/** Redraw the sidebar and every widget; resolves when all charts are drawn. */
export function rerender() {
  drawSidebar(el("pp-sidebar"), { state, app, widgets, sql: cachedSql, loadFile, rerender, exportCsv });
  currentRender = renderWidgets();
  return currentRender;
}

async function runWidget(widget) {
  const compiled = compileWidget(widget, pageState(), app.columns);
  app.compiled[widget.id] = compiled;
  const data = {};
  const started = `pp:widget-start:${widget.id}:${renderToken}`;
  performance.mark(started);
  for (const [name, { sql: text, params }] of Object.entries(compiled)) data[name] = await cachedSql(text, params);
  measure(`widget:${widget.id}`, started);
  app.results[widget.id] = data;
  const [domainSql, domainParams] = compileSql(GROUP_DOMAIN_SQL, viewState(), app.columns, {});
  const domain = groupDomain((await cachedSql(domainSql, domainParams)).map((r) => r.group));
  return { data: { ...data, [GROUP_DOMAIN_KEY]: domain }, values: resolveControls(widget, pageState(), app.columns) };
}

function controlsRow(widget) {
  if (!widget.controls?.length) return null;
  const current = state.controls[widget.id] || {};
  const set = (id, value) => {
    state.controls = { ...state.controls, [widget.id]: { ...current, [id]: value } };
    rerender();
  };
  return h(
    "div",
    { class: "pp-controls" },
    widget.controls.map((c) => {
      const value = c.id in current ? current[c.id] : c.default;
      let input;
      if (c.type === "toggle") {
        input = h("input", { type: "checkbox", checked: Boolean(value), onchange: (e) => set(c.id, e.target.checked) });
      } else if (c.type === "number") {
        input = h("input", {
          type: "number",
          value: String(value),
          onchange: (e) => set(c.id, Number(e.target.value)),
        });
      } else {
        const options =
          c.type === "column"
            ? (c.options || Object.keys(app.columns)).filter((o) => o in app.columns)
            : c.options || [];
        input = h(
          "select",
          { onchange: (e) => set(c.id, options[e.target.selectedIndex]) },
          options.map((o) => h("option", { text: String(o), selected: o === value })),
        );
      }
      return h("label", { class: "pp-control", dataset: { control: c.id } }, h("span", { text: c.label }), input);
    }),
  );
}

/** One button per row of each table view with `filter_on`: a click filters the whole report
 * to that row's value (as pp_viewer/pages.py filter_buttons). */
function filterButtons(body, widget, data) {
  for (const view of widget.specs || []) {
    const spec = view.filter_on;
    const rows = spec ? data[view.query] || [] : [];
    const values = rows.map((r) => r[spec?.column]).filter((v) => v !== null && v !== undefined);
    if (!values.length) continue;
    const buttons = values.map((value) =>
      h("button", {
        type: "button",
        class: "pp-filter-on",
        dataset: { value: String(value) },
        text: String(value),
        onclick: () => {
          const filter = { column: spec.filter, op: spec.op || "has", value };
          const known = state.filters.some(
            (f) => f.column === filter.column && f.op === filter.op && f.value === value,
          );
          if (!known) state.filters = [...state.filters, filter];
          rerender();
        },
      }),
    );
    body.append(
      h("div", { class: "pp-filter-buttons" }, h("span", { text: `${spec.label || "Only rows with"}:` }), ...buttons),
    );
  }
}

/** Open the single-image view of `image` ({path, child_id}). */
export function openImage(image) {
  state.image = image;
  window.scrollTo(0, 0);
  return rerender();
}

/** The image view's head: back to the report, and the image's path (as text). */
function imageHead(image) {
  return h(
    "div",
    { class: "pp-image-head" },
    h("button", {
      type: "button",
      class: "pp-image-back",
      text: "← Back to the report",
      onclick: () => {
        state.image = null;
        rerender();
      },
    }),
    h("h2", { class: "pp-image-path", text: `Image: ${image.path}` }),
    image.child_id === null ? null : h("span", { class: "pp-meta", text: `image ${image.child_id} of the file` }),
  );
}

async function renderWidgets() {
  const token = ++renderToken;
  const main = el("pp-widgets");
  const page = state.image ? "image" : state.mode === "issues" ? "issues" : "report";
  if (page !== "issues") await fullTable(); // only the Issues page draws without them
  const shown = widgets.filter((w) => (w.page ?? "report") === page && !state.widgets_excluded.includes(w.id));
  const overview = state.mode === "overview" && !state.image;
  const frame = h("div", { class: overview ? "pp-grid" : "pp-full" });
  if (state.image) frame.append(imageHead(state.image));
  const pending = [];
  app.compiled = {};
  app.results = {};
  for (const widget of shown) {
    const card = h("section", { class: overview ? "pp-tile" : "pp-widget", dataset: { widget: widget.id } });
    card.append(
      h(
        "div",
        { class: "pp-widget-head" },
        h(overview ? "h3" : "h2", { text: widget.title }),
        h("span", { class: "pp-badge", title: badgeText(widget.badge), text: widget.badge }),
      ),
    );
    if (!overview && widget.description) card.append(h("p", { class: "pp-description", text: widget.description }));
    frame.append(card);
    const missing = missingColumns(widget, app.columns);
    if (missing.length) {
      card.dataset.state = "hidden";
      card.append(h("p", { class: "pp-note", text: hiddenNote(widget.title, missing) }));
      continue;
    }
    if (!overview) {
      const controls = controlsRow(widget);
      if (controls) card.append(controls);
    }
    const body = h("div", { class: "pp-widget-body" });
    card.append(body);
    pending.push(
      runWidget(widget)
        .then(({ data, values }) =>
          overview
            ? drawOverview(body, widget, data, state.palette, values)
            : drawViews(body, widget, data, state.palette, values, { openImage }).then(() =>
                filterButtons(body, widget, data),
              ),
        )
        .then(() => {
          card.dataset.state = "rendered";
        })
        .catch((error) => {
          card.dataset.state = "error";
          app.errors.push(`${widget.id}: ${error.message}`);
          body.append(h("p", { class: "pp-error", text: `${widget.title} failed: ${error.message}` }));
        }),
    );
  }
  replaceChildren(main, frame);
  await Promise.all(pending);
  if (token === renderToken) {
    app.renderCount += 1;
    document.body.dataset.renders = String(app.renderCount);
    status(`${app.fileName}: ${shown.length} widgets`);
    publish();
    fullTable(); // the rest loads while the user reads the Issues page
  }
}

async function loadFile(file) {
  app.source = null;
  await loadTable(new Uint8Array(await file.arrayBuffer()), file.name);
}

export async function exportCsv() {
  await fullTable();
  const [text, params] = compileSql(`SELECT * FROM ${TABLE} WHERE {{where}}`, viewState(), app.columns, {});
  const rows = await sql(text, params);
  const csv = toCsv(Object.keys(app.columns), rows);
  const link = h("a", {
    href: URL.createObjectURL(new Blob([csv], { type: "text/csv" })),
    download: "pixel_patrol_filtered.csv",
  });
  document.body.append(link);
  link.click();
  link.remove();
  return csv;
}

/** The report the page starts with: embedded, at `?data=` (the last one) or the site's `data`. */
function initialSource() {
  const embedded = embeddedData();
  if (embedded) return { kind: "embedded", data: embedded };
  const given = (bookmark || []).filter(([key]) => key === "data").map(([, value]) => value);
  const raw = given.length ? given[given.length - 1] : window.__PP__?.data;
  if (raw === undefined || raw === null) return { kind: "none" };
  const source = dataSource(raw, document.baseURI);
  if (source.kind === "invalid")
    showNotices([{ param: paramText("data", raw), reason: `the address ${source.reason}` }]);
  return source;
}

async function fetchReport(source) {
  const response = await fetch(source.url, fetchOptions(source));
  if (!response.ok) throw new Error(`cannot load ${source.url}: HTTP ${response.status}`);
  return { name: reportName(source.url), bytes: new Uint8Array(await response.arrayBuffer()) };
}

/** Load the report the user agreed to fetch from another origin. */
async function loadConfirmed(source) {
  status(`Loading ${source.url} ...`);
  try {
    const data = await fetchReport(source);
    app.source = source;
    await loadTable(data.bytes, data.name);
  } catch (error) {
    app.errors.push(String(error?.stack ? error.stack : error));
    status(`Error: ${error.message || error}`);
  }
}

async function start() {
  status("Starting DuckDB ...");
  const source = initialSource();
  // a same-origin table is fetched while DuckDB starts; another origin waits for the user
  const pending = source.kind === "local" ? fetchReport(source) : Promise.resolve(source.data ?? null);
  pending.catch(() => {});
  preloadParquet();
  performance.mark("pp:start");
  app.db = await openDatabase();
  measure("duckdb", "pp:start");
  drawSidebar(el("pp-sidebar"), { state, app, widgets, sql: cachedSql, loadFile, rerender, exportCsv });
  if (source.kind === "confirm") {
    askToLoad(el("pp-prompt"), source.url, () => loadConfirmed(source));
    status("Waiting for you: load the report from the address above, or pick a file.");
    return;
  }
  const data = await pending;
  measure("fetch", "pp:start");
  if (source.kind === "local") app.source = source;
  if (data) await loadTable(data.bytes, data.name);
  else status("Open a PixelPatrol report (.parquet) with the file picker, or drop it on the page.");
}

export const ready = start().catch((error) => {
  app.errors.push(String(error?.stack ? error.stack : error));
  status(`Error: ${error.message || error}`);
  throw error;
});

document.addEventListener("dragover", (e) => e.preventDefault());
document.addEventListener("drop", (e) => {
  e.preventDefault();
  const file = e.dataTransfer?.files[0];
  if (file) ready.then(() => loadFile(file));
});

// The browser's back and forward buttons (an image opened or closed): the address's view again.
window.addEventListener("popstate", () => {
  if (!app.fileName) return;
  ready
    .then(async () => {
      bookmark = readBookmark(window.location.search);
      Object.assign(state, {
        filters: [],
        dims: {},
        controls: {},
        widgets_excluded: [],
        is_show_significance: false,
        mode: "issues",
        image: null,
      });
      await applyBookmark();
      publishedImage = imageKey(state.image);
      await rerender();
    })
    .catch((error) => app.errors.push(String(error?.stack ? error.stack : error)));
});

/** The promise of the render in progress (the test hook waits on it). */
export const rendered = () => currentRender;
