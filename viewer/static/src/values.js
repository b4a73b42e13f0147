import { Type } from "apache-arrow";
// Arrow results as plain JavaScript rows: int64 -> Number, lists -> arrays, binary ->
// Uint8Array (thumbnails), timestamps -> epoch milliseconds. Plus CSV export.

/** One Arrow value as a plain value. */
export function plain(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return Array.from(value, plain);
  if (value instanceof Date) return value.getTime();
  if (typeof value === "object") {
    if (typeof value.toArray === "function" && typeof value.length === "number") {
      return Array.from(value.toArray(), plain);
    }
    if (typeof value.toJSON === "function") {
      const out = {};
      for (const [k, v] of Object.entries(value.toJSON())) out[k] = plain(v);
      return out;
    }
    if (Array.isArray(value)) return value.map(plain);
  }
  return value;
}

/** A Decimal128 value (four little-endian 32-bit words) as a Number. */
function decimal(words, scale) {
  let big = 0n;
  for (let i = words.length - 1; i >= 0; i -= 1) big = (big << 32n) | BigInt(words[i] >>> 0);
  if (words[words.length - 1] & 0x80000000) big -= 1n << BigInt(32 * words.length);
  return Number(big) / 10 ** scale;
}

/** An Arrow table as an array of plain row objects (column order kept). */
export function tableRows(table) {
  const fields = table.schema.fields;
  const names = fields.map((f) => f.name);
  const columns = names.map((_, i) => table.getChildAt(i));
  const converters = fields.map((f) =>
    f.type && f.type.typeId === Type.Decimal
      ? (v) => (v === null || v === undefined ? null : decimal(v, f.type.scale))
      : plain,
  );
  const rows = new Array(table.numRows);
  for (let r = 0; r < table.numRows; r += 1) {
    const row = {};
    for (let c = 0; c < names.length; c += 1) row[names[c]] = converters[c](columns[c].get(r));
    rows[r] = row;
  }
  return rows;
}

/** Bytes as a base64 string. */
export function bytesToBase64(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Bytes as lower-case hex (binary values in CSV and in the test hook). */
export function bytesToHex(bytes) {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** A row value as JSON-friendly data: binary becomes hex text. */
export function jsonable(value) {
  if (value instanceof Uint8Array) return bytesToHex(value);
  if (Array.isArray(value)) return value.map(jsonable);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonable(v)]));
  }
  return value;
}

function csvCell(value) {
  if (value === null || value === undefined) return "";
  let text;
  if (value instanceof Uint8Array) text = bytesToHex(value);
  else if (typeof value === "object") text = JSON.stringify(jsonable(value));
  else text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows as CSV text (header line first; lists as JSON, binary as hex). */
export function toCsv(columns, rows) {
  const lines = [columns.map(csvCell).join(",")];
  for (const row of rows) lines.push(columns.map((c) => csvCell(row[c])).join(","));
  return `${lines.join("\n")}\n`;
}
