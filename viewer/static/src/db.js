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

const DEFERRED = "pp_deferred";
const LATER_TYPES = new Set(["BLOB", "DOUBLE", "FLOAT", "VARCHAR"]);
const FULL = "pp_data_full";
const quote = (name) => `"${name.replace(/"/g, '""')}"`;

/** Insert `columns` (all: null) of `file` into table `name`, a few row groups at a time. */
async function insertColumns(conn, file, name, columns) {
  const groups = file.metadata().numRowGroups();
  for (let first = 0; first === 0 || first < groups; first += ROW_GROUPS_PER_BATCH) {
    const rowGroups = [];
    for (let i = first; i < Math.min(groups, first + ROW_GROUPS_PER_BATCH); i++) rowGroups.push(i);
    const options = { ...(groups ? { rowGroups } : {}), ...(columns ? { columns } : {}) };
    const ipc = (await file.read(options)).intoIPCStream();
    await conn.insertArrowFromIPCStream(ipc, { name, create: first === 0 });
  }
}

/** The file's columns in order, with their DuckDB types (from its first row), and those to
 * load later: the ones `needed` does not name that hold bulky values (BLOB or lists, such as
 * histograms and thumbnails), text or floating-point metrics. Integers (dimension indices,
 * the group-by list's counts), booleans and timestamps come first whatever `needed` says.
 * None for a file of one batch of row groups. */
async function splitColumns(conn, file, needed) {
  const groups = file.metadata().numRowGroups();
  const sample = (await file.read(groups ? { rowGroups: [0], limit: 1 } : {})).intoIPCStream();
  await conn.query(`DROP TABLE IF EXISTS ${DEFERRED}`);
  await conn.insertArrowFromIPCStream(sample, { name: DEFERRED, create: true });
  const columns = tableRowsOf(
    await conn.query(
      `SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_name = '${DEFERRED}' ORDER BY ordinal_position`,
    ),
  );
  await conn.query(`DROP TABLE ${DEFERRED}`);
  const later = (c) => !needed.has(c.name) && (LATER_TYPES.has(c.type) || c.type.endsWith("[]"));
  return {
    names: columns.map((c) => c.name),
    deferred: groups > ROW_GROUPS_PER_BATCH ? columns.filter(later) : [],
  };
}

/**
 * Replace table pp_data with the rows of a Parquet file given as bytes, a few row groups at
 * a time. A large file (more than one batch of row groups) is loaded in two passes: first
 * the columns that `needed` names, and the cheap ones (see splitColumns), so that the first
 * page draws without waiting for the others; then `fill()`, which the caller starts when
 * it likes and which no query naming a deferred column may run before, adds them (one
 * table swap). Resolves to {deferred: [{name, type}] (DuckDB types), fill}.
 */
export async function loadParquet(db, bytes, needed = new Set()) {
  await parquetModule();
  const file = await ParquetFile.fromFile(new Blob([bytes]));
  const conn = await db.connect();
  let split;
  try {
    await conn.query(`DROP TABLE IF EXISTS ${TABLE}`);
    split = await splitColumns(conn, file, needed);
    const later = new Set(split.deferred.map((c) => c.name));
    await insertColumns(conn, file, TABLE, later.size ? split.names.filter((n) => !later.has(n)) : null);
    // duckdb-wasm has no ICU offline: time-zone-aware timestamps become UTC timestamps,
    // so date_trunc / CAST(... AS DATE) in the declarations work as in Python on UTC.
    const zoned = tableRowsOf(
      await conn.query(
        `SELECT column_name FROM information_schema.columns WHERE table_name = '${TABLE}' AND data_type = 'TIMESTAMP WITH TIME ZONE'`,
      ),
    );
    for (const { column_name: name } of zoned) {
      await conn.query(`ALTER TABLE ${TABLE} ALTER ${quote(name)} SET DATA TYPE TIMESTAMP`);
    }
  } catch (error) {
    file.free();
    throw error;
  } finally {
    await conn.close();
  }
  if (!split.deferred.length) {
    file.free();
    return { deferred: [], fill: async () => {} };
  }
  let filled = null;
  const fill = () => {
    filled ??= fillDeferred(db, file, split).finally(() => file.free());
    return filled;
  };
  return { deferred: split.deferred, fill };
}

/** Read the deferred columns and swap pp_data for the table with them too, in the file's
 * column order (rows match by position: both tables hold the row groups in order). The
 * caller loads no other table meanwhile. */
async function fillDeferred(db, file, split) {
  const conn = await db.connect();
  try {
    await conn.query(`DROP TABLE IF EXISTS ${DEFERRED}`);
    const deferred = new Set(split.deferred.map((c) => c.name));
    await insertColumns(conn, file, DEFERRED, [...deferred]);
    const list = split.names.map((n) => `${deferred.has(n) ? "b" : "a"}.${quote(n)}`).join(", ");
    await conn.query(`CREATE OR REPLACE TABLE ${FULL} AS SELECT ${list} FROM ${TABLE} a POSITIONAL JOIN ${DEFERRED} b`);
    // one message to the worker: no query of another connection runs between the two
    await conn.query(
      `BEGIN; DROP TABLE ${DEFERRED}; DROP TABLE ${TABLE}; ALTER TABLE ${FULL} RENAME TO ${TABLE}; COMMIT`,
    );
  } finally {
    await conn.close();
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
