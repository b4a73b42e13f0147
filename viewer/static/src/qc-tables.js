// The footer's QC results as the tables pp_rules and pp_qc_results (one row per rule judged;
// one row per group or dataset verdict). Twin of pixel_patrol_base/viewing/widgets/qc_tables.py,
// held to the same cases in tests/widgets/render_vectors.json. Pure: no DOM, no DuckDB.

export const RULES_TABLE = "pp_rules";
export const RESULTS_TABLE = "pp_qc_results";
/** Verdict counts, worst first: the first one counted is a rule's result. */
const COUNTED = ["fail", "error", "warn", "pass", "skip"];

export const TABLE_COLUMNS = {
  [RULES_TABLE]: [
    ["rule", "VARCHAR"],
    ["scope", "VARCHAR"],
    ["source", "VARCHAR"],
    ["result", "VARCHAR"],
    ...COUNTED.map((status) => [status, "BIGINT"]),
    ["note", "VARCHAR"],
  ],
  [RESULTS_TABLE]: [
    ["rule", "VARCHAR"],
    ["scope", "VARCHAR"],
    ["group", "VARCHAR"],
    ["status", "VARCHAR"],
    ["value", "VARCHAR"],
    ["message", "VARCHAR"],
  ],
};

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const count = (value) => (Number.isInteger(value) ? value : 0);
const text = (value) => (value === null || value === undefined ? null : String(value));

/** The rows of pp_rules for the footer's qc entry, in evaluation order. */
export function ruleRows(qc) {
  const counts = qc?.rule_counts;
  if (!isObject(counts)) return [];
  const info = isObject(qc.rule_info) ? qc.rule_info : {};
  const notes = isObject(qc.not_evaluated) ? qc.not_evaluated : {};
  return Object.entries(counts).map(([rule, raw]) => {
    const perStatus = isObject(raw) ? raw : {};
    const about = isObject(info[rule]) ? info[rule] : {};
    const source = text(about.source) || null;
    const numbers = Object.fromEntries(COUNTED.map((status) => [status, count(perStatus[status])]));
    return {
      rule: String(rule),
      scope: text(about.scope),
      source: source ? source.replace(/\\/g, "/").split("/").pop() : null,
      result: COUNTED.find((status) => numbers[status] > 0) ?? "skip",
      ...numbers,
      note: text(notes[rule]) || null,
    };
  });
}

/** The rows of pp_qc_results: the group verdicts, then the dataset verdicts. */
export function resultRows(qc) {
  const rows = [];
  for (const [scope, key] of [
    ["group", "groups"],
    ["dataset", "dataset"],
  ]) {
    const entries = Array.isArray(qc?.[key]) ? qc[key] : [];
    for (const entry of entries) {
      if (!isObject(entry)) continue;
      const value = entry.value_text ?? entry.value;
      rows.push({
        rule: text(entry.rule),
        scope,
        group: text(entry.group),
        status: text(entry.status),
        value: text(value),
        message: text(entry.message),
      });
    }
  }
  return rows;
}

/** Both tables' rows, by table name (empty lists without QC results). */
export function qcTables(qc) {
  const entry = isObject(qc) ? qc : {};
  return { [RULES_TABLE]: ruleRows(entry), [RESULTS_TABLE]: resultRows(entry) };
}

/** The CREATE TABLE statement of one of the tables. */
export function createSql(table) {
  const columns = TABLE_COLUMNS[table].map(([name, kind]) => `"${name}" ${kind}`).join(", ");
  return `CREATE OR REPLACE TABLE ${table} (${columns})`;
}
