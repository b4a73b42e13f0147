// Declared Vega-Lite specs plus query results -> the spec vega-embed draws: the JavaScript
// twin of pixel_patrol_base/viewing/widgets/specs.py. tests/widgets/render_vectors.json holds
// input/output pairs that both must reproduce. Pure functions: no DOM, no npm packages.
import { applyPalette } from "./palettes.js";

export const AUTOSIZE = { type: "pad", contains: "padding" };
export const TILE_WIDTH = 200;

/** Names of the named data sources (`"data": {"name": ...}`) anywhere in a spec. */
export function dataNames(node, out = new Set()) {
  if (Array.isArray(node)) {
    for (const v of node) dataNames(v, out);
  } else if (node && typeof node === "object") {
    if (node.data && typeof node.data === "object" && "name" in node.data) out.add(String(node.data.name));
    for (const v of Object.values(node)) dataNames(v, out);
  }
  return out;
}

const unchartable = (v) => v instanceof Uint8Array || (v !== null && typeof v === "object");

/** Rows without the columns that hold binary or nested values (Vega-Lite cannot use them). */
export function chartable(rows) {
  const dropped = new Set();
  for (const row of rows) for (const [k, v] of Object.entries(row)) if (unchartable(v)) dropped.add(k);
  return rows.map((row) => Object.fromEntries(Object.entries(row).filter(([k]) => !dropped.has(k))));
}

/** The spec to draw: a copy of `spec` with its named data, autosize and palette. */
export function chartSpec(spec, data, palette) {
  const out = structuredClone(spec);
  out.datasets = {};
  for (const name of [...dataNames(out)].sort()) if (name in data) out.datasets[name] = chartable(data[name]);
  out.autosize ??= { ...AUTOSIZE };
  return applyPalette(out, palette);
}

/** A tile-sized copy of an Overview spec: at most TILE_WIDTH wide, legend below. */
export function compact(spec) {
  const out = { ...spec };
  if (typeof out.width !== "number" || out.width > TILE_WIDTH) out.width = TILE_WIDTH;
  const config = { ...(out.config || {}) };
  config.legend = { ...(config.legend || {}), orient: "bottom", columns: 3 };
  out.config = config;
  return out;
}

/** The Overview tile's chart: chartSpec of the compact spec. */
export const tileSpec = (spec, data, palette) => chartSpec(compact(spec), data, palette);
