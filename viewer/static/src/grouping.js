// Which columns the group-by list offers, how it names them, and the default grouping: the
// JavaScript twin of group_choices / group_count_sql / default_group_col in
// pixel_patrol_base/viewing/widgets/query.py (tests/widgets/grouping_vectors.json checks both).
import { quoteIdent } from "./compile.js";

export const GROUP_LABELS = {
  imported_path_short: "added path",
  top_folder: "top-level folder",
  parent: "folder",
  file_extension: "file extension",
};
export const GROUP_FIRST = ["imported_path_short", "top_folder", "parent", "file_extension"];
export const MAX_GROUP_INTEGERS = 20;
export const NOT_GROUPS = new Set([
  "path",
  "name",
  "child_id",
  "obs_level",
  "imported_path",
  "load_error",
  "path_bytes_b64",
  "duplicate_set",
  "duplicate_of",
  "thumbnail",
  "signature",
  "phash",
]);
const TEXT_GROUP = /^(VARCHAR|BOOLEAN)$/;
const INTEGER_GROUP = /^(BIGINT|INTEGER|SMALLINT|TINYINT|UBIGINT|UINTEGER|USMALLINT|UTINYINT)$/;
const SPLITTERS = ["imported_path_short", "top_folder"];

const candidate = (name) => !NOT_GROUPS.has(name) && !name.includes("hash");

/** One-row SQL: the distinct count among images of each integer column that could be a group. */
export function groupCountSql(columns) {
  const names = Object.entries(columns)
    .filter(([n, t]) => candidate(n) && INTEGER_GROUP.test(t.toUpperCase()))
    .map(([n]) => n);
  if (!names.length) return null;
  const parts = names.map((n) => `count(DISTINCT ${quoteIdent(n, columns)}) AS ${quoteIdent(n, columns)}`);
  return `SELECT ${parts.join(", ")} FROM pp_data WHERE "obs_level" = 0`;
}

/** [column, label] per column the group-by list offers, well-known ones first. */
export function groupChoices(columns, counts) {
  const names = Object.entries(columns)
    .filter(([n, t]) => {
      const upper = t.toUpperCase();
      if (!candidate(n)) return false;
      const few = Number(counts[n] ?? MAX_GROUP_INTEGERS + 1) <= MAX_GROUP_INTEGERS;
      return TEXT_GROUP.test(upper) || (INTEGER_GROUP.test(upper) && few);
    })
    .map(([n]) => n);
  const first = GROUP_FIRST.filter((n) => names.includes(n));
  return [...first, ...names.filter((n) => !first.includes(n))].map((n) => [n, GROUP_LABELS[n] ?? n]);
}

/** groupChoices of the loaded table; `sql(text)` runs a query and resolves to its rows. */
export async function offeredGroups(columns, sql) {
  const text = groupCountSql(columns);
  const counts = text === null ? {} : (await sql(text, []))[0] || {};
  return groupChoices(columns, counts);
}

/** The added paths when several; else the top-level folder when several; else the extension. */
export async function defaultGroupCol(columns, sql) {
  for (const name of SPLITTERS) {
    if (!(name in columns)) continue;
    const rows = await sql(`SELECT count(DISTINCT ${quoteIdent(name, columns)}) AS n FROM pp_data WHERE obs_level = 0`);
    if (Number(rows[0].n) > 1) return name;
  }
  return ["file_extension", ...SPLITTERS].find((name) => name in columns) ?? null;
}
