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

/** A copy of a Vega-Lite spec whose categorical colour range is the palette's colours. */
export function applyPalette(spec, name) {
  const key = name ?? DEFAULT_PALETTE;
  const colors = paletteColors(name, PALETTES[key]?.length ?? 0);
  const config = { ...(spec.config || {}) };
  config.range = { ...(config.range || {}), category: colors };
  return { ...spec, config };
}

/** [group, colour] per distinct group, sorted as Vega-Lite sorts a nominal colour domain. */
export function groupColors(groups, palette) {
  const names = [...new Set(groups.map((g) => (g === null || g === undefined ? "" : String(g))))].sort();
  const colors = paletteColors(palette, names.length);
  return names.map((g, i) => [g, colors[i]]);
}
