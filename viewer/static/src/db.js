// DuckDB in the browser: duckdb-wasm (`eh` build) in a Blob-URL worker that carries its own
// WASM (so the page works from file://), and Parquet decoded by parquet-wasm into Arrow IPC
// (duckdb-wasm would fetch its parquet extension from the internet). Extension autoloading
// is off, and the worker refuses every fetch except its own module.
import * as duckdb from "@duckdb/duckdb-wasm";
import initParquet, { ParquetFile, readSchema } from "parquet-wasm/esm/parquet_wasm.js";
import { assetBytes, assetText } from "./assets.js";
import { createSql, qcTables, TABLE_COLUMNS } from "./qc-tables.js";
import { tableRows as tableRowsOf } from "./values.js";

export const TABLE = "pp_data";
const WASM_URL = "https://duckdb-module.invalid/duckdb-eh.wasm";

// Runs in the worker before duckdb's own code: takes the module bytes from the first
// message and answers duckdb's fetch of WASM_URL with them; any other fetch fails.
const PRELUDE = `(() => {
  let moduleBytes = null;
  self.addEventListener("message", (event) => {
    if (event.data && event.data.ppModule) {
      moduleBytes = event.data.ppModule;
      event.stopImmediatePropagation();
    }
  });
  self.fetch = (input) => {
    const url = typeof input === "string" ? input : input.url;
    if (url === ${JSON.stringify(WASM_URL)} && moduleBytes) {
      return Promise.resolve(new Response(moduleBytes, { headers: { "content-type": "application/wasm" } }));
    }
    return Promise.reject(new Error("PixelPatrol viewer: the DuckDB worker has no network (" + url + ")"));
  };
  self.XMLHttpRequest = class {
    open(method, url) {
      throw new Error("PixelPatrol viewer: the DuckDB worker has no network (" + url + ")");
    }
  };
})();
`;

let parquetReady = null;
/** Start compiling parquet-wasm (it is needed as soon as a table arrives). */
export function preloadParquet() {
  parquetModule().catch(() => {});
}

function parquetModule() {
  parquetReady ??= assetBytes("parquet.wasm.gz").then((bytes) => initParquet({ module_or_path: bytes }));
  return parquetReady;
}

/** Start duckdb-wasm; resolves to an AsyncDuckDB with extension autoloading off. */
export async function openDatabase() {
  const [workerCode, moduleBytes] = await Promise.all([
    assetText("duckdb-worker.js.gz"),
    assetBytes("duckdb-eh.wasm.gz"),
  ]);
  const workerUrl = URL.createObjectURL(new Blob([PRELUDE, workerCode], { type: "text/javascript" }));
  const worker = new Worker(workerUrl);
  worker.postMessage({ ppModule: moduleBytes.buffer }, [moduleBytes.buffer]);
  const db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), worker);
  await db.instantiate(WASM_URL);
  await db.open({ query: { castBigIntToDouble: false, castTimestampToDate: false } });
  const conn = await db.connect();
  await conn.query("SET GLOBAL autoinstall_known_extensions = false");
  await conn.query("SET GLOBAL autoload_known_extensions = false");
  await conn.close();
  return db;
}

/** The key-value metadata of a Parquet file (project name, description, ...). */
export async function parquetMetadata(bytes) {
  await parquetModule();
  const schema = readSchema(bytes);
  const out = {};
  try {
    const metadata = schema.metadata();
    for (const [key, value] of metadata) out[key] = value;
  } finally {
    schema.free();
  }
  return out;
}

/** Row groups decoded and handed to DuckDB at a time: a large report (100,000 images with
 * their histograms and thumbnails) decoded whole would not fit in WebAssembly's memory. */
const ROW_GROUPS_PER_BATCH = 8;

/** Replace table pp_data with the rows of a Parquet file given as bytes, a few row groups at
 * a time. */
export async function loadParquet(db, bytes) {
  await parquetModule();
  const file = await ParquetFile.fromFile(new Blob([bytes]));
  const conn = await db.connect();
  try {
    await conn.query(`DROP TABLE IF EXISTS ${TABLE}`);
    const groups = file.metadata().numRowGroups();
    for (let first = 0; first === 0 || first < groups; first += ROW_GROUPS_PER_BATCH) {
      const rowGroups = [];
      for (let i = first; i < Math.min(groups, first + ROW_GROUPS_PER_BATCH); i++) rowGroups.push(i);
      const table = await file.read(groups ? { rowGroups } : {});
      const ipc = table.intoIPCStream();
      await conn.insertArrowFromIPCStream(ipc, { name: TABLE, create: first === 0 });
    }
    // duckdb-wasm has no ICU offline: time-zone-aware timestamps become UTC timestamps,
    // so date_trunc / CAST(... AS DATE) in the declarations work as in Python on UTC.
    const zoned = tableRowsOf(
      await conn.query(
        `SELECT column_name FROM information_schema.columns WHERE table_name = '${TABLE}' AND data_type = 'TIMESTAMP WITH TIME ZONE'`,
      ),
    );
    for (const { column_name: name } of zoned) {
      const quoted = `"${name.replace(/"/g, '""')}"`;
      await conn.query(`ALTER TABLE ${TABLE} ALTER ${quoted} SET DATA TYPE TIMESTAMP`);
    }
  } finally {
    await conn.close();
    file.free();
  }
}

/** Replace the tables pp_rules and pp_qc_results with the footer's QC results (see qc-tables.js). */
export async function loadQcTables(db, qc) {
  const conn = await db.connect();
  try {
    for (const [table, rows] of Object.entries(qcTables(qc))) {
      await conn.query(createSql(table));
      if (!rows.length) continue;
      const names = TABLE_COLUMNS[table].map(([name]) => name);
      const insert = await conn.prepare(`INSERT INTO ${table} VALUES (${names.map(() => "?").join(", ")})`);
      try {
        for (const row of rows) await insert.query(...names.map((name) => row[name]));
      } finally {
        await insert.close();
      }
    }
  } finally {
    await conn.close();
  }
}
