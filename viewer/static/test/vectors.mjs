// Run shared test vectors through the static viewer's JavaScript; print the outcomes as JSON.
//
//   node test/vectors.mjs FILE...
//
// FILE is tests/widgets/render_vectors.json ({function, input, expected | error} cases) or
// tests/widgets/sql_vectors.json (compiler cases). The output is one JSON object: file name
// -> a list with one {result} or {error: <error name>} per case, in order. tests/static_viewer
// runs this under node and compares with each case's expectation; the Python twins are
// checked against the same files by tests/widgets. Imports only pure modules of src/ (no
// DOM, no npm packages), so it needs node and nothing else.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { compileSql, Ident } from "../src/compile.js";
import { badgeText, fillText, formatValue, headerFacts, hiddenNote, kpiCards, overviewText } from "../src/formats.js";
import { applyPalette, groupColors, paletteColors } from "../src/palettes.js";
import { qcTables } from "../src/qc-tables.js";
import { chartSpec, compact, tileSpec } from "../src/specs.js";
import { groupOptions, missingColumns, resolveControls, viewVisible } from "../src/widgets.js";

const SPECIAL_FLOATS = { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, "-inf": Number.NEGATIVE_INFINITY };

/** A vector's JSON input as the runtime's values (the tags are listed in the vector file). */
function decode(value) {
  if (Array.isArray(value)) return value.map(decode);
  if (value === null || typeof value !== "object") return value;
  if ("$bytes" in value) return Uint8Array.from(value.$bytes.match(/../g) || [], (b) => Number.parseInt(b, 16));
  if ("$float" in value) return SPECIAL_FLOATS[value.$float];
  if ("$datetime" in value) return Date.parse(value.$datetime);
  if ("$ident" in value) return new Ident(value.$ident);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]));
}

/** A result as JSON: Ident -> {$ident}, binary -> {$bytes}. */
function encode(value) {
  if (value instanceof Ident) return { $ident: value.name };
  if (value instanceof Uint8Array)
    return { $bytes: Array.from(value, (b) => b.toString(16).padStart(2, "0")).join("") };
  if (Array.isArray(value)) return value.map(encode);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  }
  return value;
}

const FUNCTIONS = {
  format_value: ({ value, kind }) => formatValue(value, kind ?? null),
  fill_text: ({ template, values }) => fillText(template, values),
  overview_text: ({ template, rows, controls }) => overviewText(template, rows, controls),
  kpi_cards: ({ view, rows }) => kpiCards(view, rows),
  header_facts: ({ counts }) => headerFacts(counts),
  badge_text: ({ badge }) => badgeText(badge),
  hidden_note: ({ title, missing }) => hiddenNote(title, missing),
  palette_colors: ({ name, n }) => paletteColors(name, n),
  apply_palette: ({ spec, name }) => applyPalette(spec, name),
  group_colors: ({ groups, palette }) => groupColors(groups, palette),
  chart_spec: ({ spec, data, palette }) => chartSpec(spec, data, palette),
  tile_spec: ({ spec, data, palette }) => tileSpec(spec, data, palette),
  compact: ({ spec }) => compact(spec),
  view_visible: ({ view, data, controls }) => viewVisible(view, data, controls),
  group_options: ({ columns }) => groupOptions(columns),
  missing_columns: ({ widget, columns }) => missingColumns(widget, columns),
  resolve_controls: ({ widget, controls, columns }) =>
    resolveControls(widget, { controls: { [widget.id]: controls } }, columns),
  qc_tables: ({ qc }) => qcTables(qc),
};

function outcome(run) {
  try {
    return { result: encode(run()) };
  } catch (error) {
    return { error: error.name };
  }
}

function renderCases(vectors) {
  return vectors.cases.map((c) =>
    outcome(() => {
      if (!Object.hasOwn(FUNCTIONS, c.function))
        throw Object.assign(new Error(c.function), { name: "UnknownFunction" });
      return FUNCTIONS[c.function](decode(c.input));
    }),
  );
}

function sqlCases(vectors) {
  return vectors.cases.map((c) =>
    outcome(() => {
      const state = {
        group_col: c.state.group_col,
        dims: c.state.dims,
        filters: c.state.filters.map(([column, op, value]) => ({ column, op, value })),
      };
      const controls = Object.fromEntries(
        Object.entries(c.controls).map(([k, v]) => [
          k,
          v !== null && typeof v === "object" && "ident" in v ? new Ident(v.ident) : v,
        ]),
      );
      const [sql, params] = compileSql(c.template, state, vectors.columns, controls);
      return { sql, params };
    }),
  );
}

const report = {};
for (const file of process.argv.slice(2)) {
  const vectors = JSON.parse(readFileSync(file, "utf8"));
  report[basename(file)] = "columns" in vectors ? sqlCases(vectors) : renderCases(vectors);
}
process.stdout.write(`${JSON.stringify(report)}\n`);
