// Values as display text: the JavaScript twin of pixel_patrol_base/viewing/widgets/formats.py,
// rule for rule (its docstring states the rules). tests/widgets/render_vectors.json holds
// input/output pairs that both must reproduce (run here by test/vectors.mjs under node).
// Pure functions: no DOM, no npm packages.
import { Ident } from "./compile.js";

export const MISSING = "—";
export const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];
const EXACT_INT = 2 ** 53;
const FIXED_LIMIT = 1e15;
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** `value` rounded to `decimals` places (half away from zero), thousands grouped. */
function fixed(value, decimals) {
  const text = Math.abs(value).toFixed(decimals);
  const [whole, fraction] = text.split(".");
  const sign = value < 0 && /[1-9]/.test(text) ? "-" : "";
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return sign + grouped + (fraction === undefined ? "" : `.${fraction}`);
}

const strip = (text) => (text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text);

/** Four significant digits: fixed for exponents -4..3, integer up to 1e15, else scientific. */
function general(value) {
  const [mantissa, exponentText] = Math.abs(value).toExponential(3).split("e");
  const exponent = Number(exponentText);
  if (exponent >= -4 && exponent < 4) return strip(fixed(value, 3 - exponent));
  if (exponent >= 4 && Math.abs(value) < FIXED_LIMIT) return fixed(value, 0);
  const sign = value < 0 ? "-" : "";
  const digits = String(Math.abs(exponent)).padStart(2, "0");
  return `${sign}${strip(mantissa)}e${exponent < 0 ? "-" : "+"}${digits}`;
}

function bytes(value) {
  let size = value;
  let unit = 0;
  while (Math.abs(size) >= 1024 && unit < BYTE_UNITS.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return `${fixed(size, unit === 0 ? 0 : 1)} ${BYTE_UNITS[unit]}`;
}

/** Epoch milliseconds as UTC `YYYY-MM-DD HH:MM:SS`. */
function datetime(milliseconds) {
  return new Date(Math.floor(milliseconds))
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "");
}

function number(value, kind) {
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (kind === "bytes") return bytes(value);
  if (kind === "datetime") return datetime(value);
  if ((kind === "int" || Number.isInteger(value)) && Math.abs(value) < EXACT_INT) return fixed(value, 0);
  return general(value);
}

/** A value as display text, by declared format `kind` (text, int, float, bytes, datetime). */
export function formatValue(value, kind = null) {
  if (value === null || value === undefined) return MISSING;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return number(value, kind);
  if (typeof value === "bigint") return number(Number(value), kind);
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return `[${value.map((v) => formatValue(v)).join(", ")}]`;
  if (typeof value === "object") {
    return `{${Object.entries(value)
      .map(([k, v]) => `${k}: ${formatValue(v)}`)
      .join(", ")}}`;
  }
  return String(value);
}

/** `template` with each `{name}` that `values` holds replaced by its formatted value. */
export function fillText(template, values) {
  return String(template).replace(PLACEHOLDER, (match, name) =>
    Object.hasOwn(values, name) ? formatValue(values[name]) : match,
  );
}

/** The Overview summary line from the first row and the controls; null without rows. */
export function overviewText(template, rows, controls = {}) {
  if (!rows.length) return null;
  const values = Object.fromEntries(Object.entries(controls).map(([k, v]) => [k, v instanceof Ident ? v.name : v]));
  return fillText(template, { ...values, ...rows[0] });
}

/** [label, value text] per KPI card of a `kpi` view, from the first row ([] without rows). */
export function kpiCards(view, rows) {
  if (!rows.length) return [];
  const row = rows[0];
  const items = view.items?.length ? view.items : Object.keys(row).map((column) => ({ column }));
  return items.map((item) => [
    String(item.label || String(item.column).replace(/_/g, " ")),
    formatValue(row[item.column], item.format ?? null),
  ]);
}

/** [label, value text] per numeric count of the report's footer, in footer order. */
export function headerFacts(counts) {
  return Object.entries(counts)
    .filter(([, v]) => typeof v === "number")
    .map(([k, v]) => [k.replace(/_/g, " "), formatValue(v)]);
}

/** The badge's explanation: what one data point is. */
export const badgeText = (badge) => `one point = one ${badge}`;

/** The note shown instead of a widget whose required columns are missing. */
export const hiddenNote = (title, missing) =>
  `${title} is hidden: the table has no column ${missing.join(", ")} (run the processor that produces it).`;
