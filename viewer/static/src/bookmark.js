// The bookmark in the page's address (?group=...&filter=...) is untrusted input. readBookmark
// splits the query string as ViewState.to_query_params writes it (pixel_patrol_base/viewing/
// widgets/model.py); checkBookmark holds every parameter against the table's columns and the
// widget declarations with the rules of viewing/options.py (build_state); probeBookmark runs
// what survives on DuckDB. A parameter that fails is dropped with a notice naming it, and the
// rest applies. toQuery writes a state back. Pure functions: no DOM (probeBookmark takes `sql`).
// `image` (a path) and `child` (its child_id) open the single-image view; probeBookmark drops
// them with a notice when the report has no such image (bookmark.py drop_missing_image).
import { AXES, FILTER_OPS, filtersSql } from "./compile.js";
import { PALETTES } from "./palettes.js";
import { compileWidget, groupOptions, resolveControls } from "./widgets.js";

export const MODES = ["issues", "overview", "full"];
const MODE_NAMES = { issues: "Issues", overview: "Overview", full: "Full" };
/** Every parameter the page reads; `data` is the report's address (source.js). */
export const PARAMS = ["data", "group", "filter", "dim", "ctl", "exclude", "sig", "palette", "mode", "image", "child"];
/** Longest `image` / `child` value taken (bookmark.py MAX_PATH_CHARS). */
export const MAX_PATH_CHARS = 4096;
/** Counts the rows of one image (bookmark.py IMAGE_SQL). */
export const IMAGE_SQL =
  'SELECT count(*) AS n FROM pp_data WHERE "obs_level" = 0 AND "path" = ? AND "child_id" IS NOT DISTINCT FROM ?';
export const NO_SUCH_IMAGE = "the report has no such image";
const NUMERIC = [
  "TINYINT",
  "SMALLINT",
  "INTEGER",
  "BIGINT",
  "HUGEINT",
  "UTINYINT",
  "USMALLINT",
  "UINTEGER",
  "UBIGINT",
  "FLOAT",
  "DOUBLE",
  "DECIMAL",
];
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const TRUE = ["true", "1", "yes"];
const FALSE = ["false", "0", "no"];
const SIG = { 1: true, true: true, True: true, 0: false, false: false, False: false, "": false };
const MAX_NUMBER = 2 ** 53;
const SHOWN = 80;

/** Raised for one bad parameter; the message says why (after "filter=..."). */
export class BookmarkError extends Error {
  constructor(message) {
    super(message);
    this.name = "BookmarkError";
  }
}

/** A parameter as the notice names it: `key=value`, the value cut at 80 characters. */
export function paramText(key, raw) {
  const value = String(raw);
  return `${key}=${value.length > SHOWN ? `${value.slice(0, SHOWN)}…` : value}`;
}

/** The query string `search` as [key, value] pairs in order (URLSearchParams decoding). */
export function readBookmark(search) {
  return [...new URLSearchParams(search)];
}

const isScalar = (v) =>
  typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));
const isNumericType = (t) => NUMERIC.includes(t.toUpperCase().split("(")[0].trim());

/** One filter value as the column's type (options.py _coerce): numbers and booleans parsed. */
function coerce(column, type, raw) {
  if (!isScalar(raw)) throw new BookmarkError(`the value ${JSON.stringify(raw)} is not one number or text`);
  if (isNumericType(type)) {
    if (typeof raw === "number") return raw;
    const text = String(raw).trim();
    if (typeof raw === "string" && NUMBER.test(text) && Number.isFinite(Number(text))) return Number(text);
    throw new BookmarkError(`the value ${JSON.stringify(raw)} for numeric column '${column}' is not a number`);
  }
  if (type.toUpperCase() === "BOOLEAN") {
    const text = String(raw).trim().toLowerCase();
    if (TRUE.includes(text)) return true;
    if (FALSE.includes(text)) return false;
    throw new BookmarkError(`the value ${JSON.stringify(raw)} for boolean column '${column}' is not true or false`);
  }
  return raw;
}

/** A `filter` parameter, JSON [column, op, value], as a checked {column, op, value}. */
export function checkFilter(text, columns) {
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BookmarkError("it is not JSON [column, op, value]");
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw new BookmarkError("it is not JSON [column, op, value]");
  const [column, op, value] = parsed;
  if (typeof column !== "string" || !Object.hasOwn(columns, column)) {
    throw new BookmarkError(`${JSON.stringify(column)} is not a column of the report`);
  }
  if (!FILTER_OPS.includes(op)) {
    throw new BookmarkError(`the operator ${JSON.stringify(op)} is unknown; use one of ${FILTER_OPS.join(", ")}`);
  }
  if (op === "contains" || op === "not_contains" || op === "has") {
    if (!isScalar(value)) throw new BookmarkError(`the value ${JSON.stringify(value)} is not text`);
    return { column, op, value: String(value) };
  }
  if (op === "in") {
    if (typeof value !== "string" && !Array.isArray(value)) {
      throw new BookmarkError("'in' takes a list or comma-separated text");
    }
    const items = typeof value === "string" ? value.split(",").map((v) => v.trim()) : value;
    if (!items.length) throw new BookmarkError("'in' needs at least one value");
    return { column, op, value: items.map((v) => coerce(column, columns[column], v)) };
  }
  return { column, op, value: coerce(column, columns[column], value) };
}

/** A `dim` parameter, `Z:2`, as [axis, index], for an axis the report has. */
export function checkDim(text, columns) {
  const at = text.indexOf(":");
  const axis = (at < 0 ? text : text.slice(0, at)).trim().toUpperCase();
  const index = at < 0 ? "" : text.slice(at + 1).trim();
  if (!AXES.includes(axis) || !Object.hasOwn(columns, `dim_${axis.toLowerCase()}`)) {
    const present = AXES.filter((a) => Object.hasOwn(columns, `dim_${a.toLowerCase()}`));
    throw new BookmarkError(
      `${axis || "''"} is not a dimension of the report (it has ${present.join(", ") || "none"})`,
    );
  }
  if (!/^\d{1,18}$/.test(index) || !Number.isSafeInteger(Number(index))) {
    throw new BookmarkError("it must look like Z:2 (an index >= 0)");
  }
  return [axis, Number(index)];
}

/** A number control's value (as bookmark.py): finite, below 2^53, whole and >= 0 if the default is. */
function checkNumber(name, control, value) {
  if (typeof value !== "number") throw new BookmarkError(`${name} takes a number`);
  if (!Number.isFinite(value) || Math.abs(value) >= MAX_NUMBER) {
    throw new BookmarkError(`${name} takes a finite number below 2^53`);
  }
  const fallback = control.default;
  if (Number.isInteger(fallback) && !Number.isInteger(value)) throw new BookmarkError(`${name} takes a whole number`);
  if (typeof fallback === "number" && fallback >= 0 && value < 0)
    throw new BookmarkError(`${name} takes a number >= 0`);
}

/** A `ctl` parameter, `widget.control=JSON`, as [widget id, control id, value]. */
export function checkControl(text, widgets, columns) {
  const eq = text.indexOf("=");
  const key = eq < 0 ? text : text.slice(0, eq);
  const dot = key.indexOf(".");
  if (eq < 0 || dot < 0) throw new BookmarkError("it must look like widget.control=1");
  const [wid, cid] = [key.slice(0, dot), key.slice(dot + 1)];
  const widget = widgets.find((w) => w.id === wid);
  if (!widget) throw new BookmarkError(`there is no widget '${wid}'`);
  if (!(widget.controls || []).some((c) => c.id === cid)) {
    const known = (widget.controls || []).map((c) => c.id).join(", ") || "none";
    throw new BookmarkError(`widget '${wid}' has no control '${cid}'; its controls are ${known}`);
  }
  let value;
  try {
    value = JSON.parse(text.slice(eq + 1));
  } catch {
    throw new BookmarkError("its value is not JSON");
  }
  const control = widget.controls.find((c) => c.id === cid);
  if (control.type === "number") checkNumber(`control ${wid}.${cid}`, control, value);
  try {
    resolveControls(widget, { controls: { [wid]: { [cid]: value } } }, columns);
  } catch (error) {
    throw new BookmarkError(error.message);
  }
  return [wid, cid, value];
}

function checkPathText(what, raw, columns) {
  if (!Object.hasOwn(columns, "path")) throw new BookmarkError("the report has no path column");
  if (!raw) throw new BookmarkError(`the ${what} is empty`);
  if (raw.length > MAX_PATH_CHARS) throw new BookmarkError(`the ${what} is longer than ${MAX_PATH_CHARS} characters`);
  return raw;
}

function checkOne(key, raw, columns, widgets) {
  if (key === "image") return { imagePath: checkPathText("image path", raw, columns) };
  if (key === "child") return { imageChild: checkPathText("child id", raw, columns) };
  if (key === "group") {
    if (!groupOptions(columns).includes(raw)) throw new BookmarkError(`'${raw}' is not a column one can group by`);
    return { group_col: raw };
  }
  if (key === "palette") {
    if (!Object.hasOwn(PALETTES, raw)) {
      throw new BookmarkError(`the palette is unknown; use one of ${Object.keys(PALETTES).join(", ")}`);
    }
    return { palette: raw };
  }
  if (key === "mode") {
    if (!MODES.includes(raw.toLowerCase())) throw new BookmarkError("the mode is Issues, Overview or Full");
    return { mode: raw.toLowerCase() };
  }
  if (key === "sig") {
    if (!Object.hasOwn(SIG, raw)) throw new BookmarkError("it takes 1 or 0");
    return { is_show_significance: SIG[raw] };
  }
  if (key === "exclude") {
    const ids = raw
      .split(",")
      .map((id) => id.trim())
      .filter(Boolean);
    const unknown = ids.filter((id) => !widgets.some((w) => w.id === id));
    if (unknown.length) throw new BookmarkError(`there is no widget '${unknown.join("', '")}'`);
    return { exclude: ids };
  }
  if (key === "filter") return { filter: checkFilter(raw, columns) };
  if (key === "dim") return { dim: checkDim(raw, columns) };
  if (key === "ctl") return { ctl: checkControl(raw, widgets, columns) };
  throw new BookmarkError("the page has no such parameter");
}

function merge(patch, one, source) {
  if ("filter" in one) patch.filters.push({ ...one.filter, source });
  else if ("dim" in one) patch.dims[one.dim[0]] = one.dim[1];
  else if ("exclude" in one) {
    for (const id of one.exclude) if (!patch.widgets_excluded.includes(id)) patch.widgets_excluded.push(id);
  } else if ("ctl" in one) {
    const [wid, cid, value] = one.ctl;
    patch.controls[wid] = { ...(patch.controls[wid] || {}), [cid]: value };
    patch.controlSources[wid] = [...(patch.controlSources[wid] || []), source];
  } else Object.assign(patch, one);
}

/**
 * The bookmark `pairs` (readBookmark) checked against `columns` (name -> DuckDB type) and
 * `widgets` (declarations): {patch, notices}. `patch` holds the valid parameters as state
 * (group_col, filters, dims, controls, widgets_excluded, is_show_significance, palette, mode);
 * `notices` names each dropped one: {param: "filter=notjson", reason}. `data` is skipped.
 */
export function checkBookmark(pairs, columns, widgets) {
  const patch = { filters: [], dims: {}, controls: {}, widgets_excluded: [], controlSources: {} };
  const notices = [];
  for (const [key, raw] of pairs) {
    if (key === "data") continue;
    const param = paramText(key, raw);
    try {
      merge(patch, checkOne(key, raw, columns, widgets), param);
    } catch (error) {
      if (!(error instanceof BookmarkError)) throw error;
      notices.push({ param, reason: error.message });
    }
  }
  const { imagePath, imageChild } = patch;
  delete patch.imagePath;
  delete patch.imageChild;
  if (imagePath !== undefined) patch.image = { path: imagePath, child_id: imageChild ?? null };
  else if (imageChild !== undefined) {
    for (const [key, raw] of pairs) {
      if (key === "child") notices.push({ param: paramText(key, raw), reason: "it needs an image parameter" });
    }
  }
  return { patch, notices };
}

async function fails(run) {
  try {
    await run();
    return false;
  } catch {
    return true;
  }
}

/**
 * Run what checkBookmark kept on DuckDB (`sql(text, params)` resolves to rows): a filter whose
 * SQL fails on the table (a value the column type cannot take) and a widget's bookmarked
 * controls under which its queries fail (e.g. a negative LIMIT) are dropped. Returns the
 * state patch without the sources, and the notices for what it dropped.
 */
export async function probeBookmark(patch, columns, widgets, sql) {
  const notices = [];
  const filters = [];
  for (const { source, ...flt } of patch.filters) {
    const [text, params] = filtersSql({ filters: [flt] }, columns);
    if (await fails(() => sql(`SELECT count(*) AS n FROM pp_data WHERE ${text}`, params))) {
      notices.push({ param: source, reason: `the column '${flt.column}' cannot take this value` });
    } else filters.push(flt);
  }
  const { controlSources, ...state } = { ...patch, filters };
  if (state.image) {
    const rows = await sql(IMAGE_SQL, [state.image.path, state.image.child_id]);
    if (!rows.length || Number(rows[0].n) === 0) {
      notices.push({ param: paramText("image", state.image.path), reason: NO_SUCH_IMAGE });
      state.image = null;
    }
  }
  const runAll = (widget, st) => async () => {
    for (const { sql: text, params } of Object.values(compileWidget(widget, st, columns))) await sql(text, params);
  };
  for (const wid of Object.keys(state.controls)) {
    const widget = widgets.find((w) => w.id === wid);
    const without = { ...state, controls: { ...state.controls, [wid]: {} } };
    if ((await fails(runAll(widget, state))) && !(await fails(runAll(widget, without)))) {
      for (const param of controlSources[wid]) notices.push({ param, reason: `widget '${wid}' cannot run with it` });
      delete state.controls[wid];
    }
  }
  return { state, notices };
}

/** A state as query parameters, as ViewState.to_query_params writes them (plus mode). */
export function toQuery(state) {
  const out = new URLSearchParams();
  if (state.group_col !== null && state.group_col !== undefined) out.append("group", state.group_col);
  for (const f of state.filters || []) out.append("filter", JSON.stringify([f.column, f.op, f.value]));
  for (const axis of Object.keys(state.dims || {}).sort()) out.append("dim", `${axis}:${state.dims[axis]}`);
  for (const wid of Object.keys(state.controls || {}).sort()) {
    const values = state.controls[wid];
    for (const cid of Object.keys(values).sort()) out.append("ctl", `${wid}.${cid}=${JSON.stringify(values[cid])}`);
  }
  for (const wid of state.widgets_excluded || []) out.append("exclude", wid);
  if (state.is_show_significance) out.append("sig", "1");
  if (state.palette !== null && state.palette !== undefined) out.append("palette", state.palette);
  if (state.mode && state.mode !== MODES[0]) out.append("mode", MODE_NAMES[state.mode] ?? "Overview");
  if (state.image) {
    out.append("image", state.image.path);
    if (state.image.child_id !== null && state.image.child_id !== undefined) out.append("child", state.image.child_id);
  }
  return out;
}
