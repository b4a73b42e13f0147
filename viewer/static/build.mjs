// Build the static viewer's assets into dist/ (read by pixel_patrol_base/viewing/static.py).
//
//   dist/app.js                 the page's code: our src/ + duckdb-wasm API, arrow, parquet-wasm
//                               glue, vega, vega-lite, vega-embed (one minified IIFE)
//   dist/style.css              the page's styles
//   dist/app.js.gz              the same, gzipped (the single HTML file carries it base64)
//   dist/boot.js                the single file's loader: inflates app.js.gz and runs it
//   dist/index.html             the page template (placeholders filled in by Python)
//   dist/duckdb-worker.js.gz    duckdb-wasm's `eh` worker, gzipped
//   dist/duckdb-eh.wasm.gz      duckdb-wasm's `eh` module, gzipped
//   dist/parquet.wasm.gz        parquet-wasm's module, gzipped
//   dist/manifest.json          versions and sizes, for the Python side and the docs
//
// The browser tests' bundle (src/test-hook.js as entry: the same app plus the window.__viewer
// hook) goes to $PP_STATIC_TEST_DIST (default test-dist/), as app.js and app.js.gz only; the
// tests lay it over dist/. dist/ never holds the hook.
//
// The browser inflates the .gz assets with DecompressionStream, so the single HTML file
// carries them base64-encoded and a site folder serves them as plain files.

import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const dist = process.env.PP_STATIC_DIST || join(here, "dist");
const testDist = process.env.PP_STATIC_TEST_DIST || join(here, "test-dist");
const modules = join(here, "node_modules");
for (const folder of [dist, testDist]) {
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
}

const bundle = (entry, outfile) =>
  build({
    entryPoints: [join(here, "src", entry)],
    bundle: true,
    minify: true,
    format: "iife",
    target: ["chrome110", "firefox115", "safari16"],
    outfile,
    legalComments: "none",
    logLevel: "warning",
    logOverride: { "empty-import-meta": "silent" },
  });
await bundle("main.js", join(dist, "app.js"));
await bundle("test-hook.js", join(testDist, "app.js"));

copyFileSync(join(here, "src", "style.css"), join(dist, "style.css"));
copyFileSync(join(here, "src", "index.html"), join(dist, "index.html"));
copyFileSync(join(here, "src", "boot.js"), join(dist, "boot.js"));

const gz = (source, name) => {
  writeFileSync(join(dist, name), gzipSync(readFileSync(source), { level: 9 }));
};
const duckdbDist = join(modules, "@duckdb", "duckdb-wasm", "dist");
gz(join(dist, "app.js"), "app.js.gz");
writeFileSync(join(testDist, "app.js.gz"), gzipSync(readFileSync(join(testDist, "app.js")), { level: 9 }));
gz(join(duckdbDist, "duckdb-browser-eh.worker.js"), "duckdb-worker.js.gz");
gz(join(duckdbDist, "duckdb-eh.wasm"), "duckdb-eh.wasm.gz");
gz(join(modules, "parquet-wasm", "esm", "parquet_wasm_bg.wasm"), "parquet.wasm.gz");

const version = (name) => JSON.parse(readFileSync(join(modules, name, "package.json"), "utf8")).version;
const files = [
  "app.js",
  "app.js.gz",
  "boot.js",
  "style.css",
  "index.html",
  "duckdb-worker.js.gz",
  "duckdb-eh.wasm.gz",
  "parquet.wasm.gz",
];
const manifest = {
  versions: Object.fromEntries(
    ["@duckdb/duckdb-wasm", "parquet-wasm", "apache-arrow", "vega", "vega-lite", "vega-embed"].map((name) => [
      name,
      version(name),
    ]),
  ),
  files: Object.fromEntries(files.map((f) => [f, statSync(join(dist, f)).size])),
};
writeFileSync(join(dist, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`static viewer built in ${dist} (test bundle in ${testDist})`);
