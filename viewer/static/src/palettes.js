// Group colour palettes: the JavaScript twin of pixel_patrol_base/viewing/widgets/palettes.py
// (same names, colours and rules; tests/widgets/render_vectors.json checks both).
import { CompileError } from "./compile.js";

export const PALETTES = {
  tableau10: [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
  ],
  "okabe-ito": ["#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#000000"],
  set2: ["#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3", "#a6d854", "#ffd92f", "#e5c494", "#b3b3b3"],
  dark2: ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"],
};
export const DEFAULT_PALETTE = "tableau10";

/** `n` colours of palette `name` (the default when null), repeating as needed. */
export function paletteColors(name, n) {
  const colors = Object.hasOwn(PALETTES, name ?? DEFAULT_PALETTE) ? PALETTES[name ?? DEFAULT_PALETTE] : null;
  if (!colors) {
    throw new CompileError(
      "WidgetStateError",
      `palette '${name}' is unknown; use one of ${Object.keys(PALETTES).join(", ")}`,
    );
  }
  return Array.from({ length: n }, (_, i) => colors[i % colors.length]);
}

/** The query column that holds the group value; its colour encodings get the report's scale. */
export const GROUP_FIELD = "group";
/** The key of a widget's data under which the runtime hands the report's group domain. */
export const GROUP_DOMAIN_KEY = "__pp_group_domain";
/** The distinct group values of the whole report (unfiltered), as palettes.py runs them. */
export const GROUP_DOMAIN_SQL =
  'SELECT DISTINCT "group" FROM (SELECT CAST({{group}} AS VARCHAR) AS "group" FROM pp_data ' +
  'WHERE "obs_level" = 0) WHERE "group" IS NOT NULL';
const COLOUR_CHANNELS = ["color", "fill", "stroke"];

/** The sorted colour domain: distinct values, null dropped, in JavaScript string order. */
export function groupDomain(values) {
  return [...new Set(values.filter((v) => v !== null && v !== undefined).map(String))].sort();
}

function withGroupScale(node, scale) {
  if (Array.isArray(node)) return node.map((v) => withGroupScale(v, scale));
  if (node === null || typeof node !== "object" || node instanceof Uint8Array) return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === "datasets" ? v : withGroupScale(v, scale);
  if (out.encoding && typeof out.encoding === "object") {
    const encoding = { ...out.encoding };
    for (const channel of COLOUR_CHANNELS) {
      const def = encoding[channel];
      if (def && typeof def === "object" && def.field === GROUP_FIELD) {
        const given = def.scale || {};
        if (!("domain" in given)) encoding[channel] = { ...def, scale: { ...given, ...scale } };
      }
    }
    out.encoding = encoding;
  }
  return out;
}

/**
 * A copy of a Vega-Lite spec whose categorical colour range is the palette's colours; with
 * `domain` (the report's groupDomain), every colour encoding of the field `group` without a
 * domain gets the explicit scale {domain, range}.
 */
export function applyPalette(spec, name, domain = null) {
  if (domain?.length) spec = withGroupScale(spec, { domain: [...domain], range: paletteColors(name, domain.length) });
  const key = name ?? DEFAULT_PALETTE;
  const colors = paletteColors(name, PALETTES[key]?.length ?? 0);
  const config = { ...(spec.config || {}) };
  config.range = { ...(config.range || {}), category: colors };
  return { ...spec, config };
}

/**
 * [group, colour] per group, as Vega-Lite orders a nominal colour domain: the groups of
 * `domain` (the report's, as the charts get it) first, then any other group, sorted.
 */
export function groupColors(groups, palette, domain = null) {
  const given = new Set(groups.map((g) => (g === null || g === undefined ? "" : String(g))));
  const names = [...(domain || [])];
  const known = new Set(names);
  names.push(...groupDomain([...given].filter((g) => !known.has(g))));
  const colors = paletteColors(palette, names.length);
  return names.map((g, i) => [g, colors[i]]);
}
