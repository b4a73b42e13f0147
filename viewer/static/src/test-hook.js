// The browser tests' hook, window.__viewer: the test bundle's entry (build.mjs writes it
// outside dist/, so no product bundle has it). It runs the viewer (main.js) and exposes
// its state, compiled SQL, the compiler and a SQL runner to tests/static_viewer.
import { compileSql, Ident } from "./compile.js";
import { app, exportCsv, ready, rendered, rerender, sql, state, widgets } from "./main.js";
import { PALETTES } from "./palettes.js";
import { tooltipHtml } from "./render.js";
import { jsonable } from "./values.js";

window.__viewer = {
  ready,
  state,
  widgets,
  app,
  get columns() {
    return app.columns;
  },
  get compiled() {
    return app.compiled;
  },
  get rendered() {
    return rendered();
  },
  Ident,
  palettes: PALETTES,
  tooltipHtml,
  compile: (template, st, columns, values) => compileSql(template, st, columns, values),
  sql: async (text, params = []) => jsonable(await sql(text, params)),
  setGroup: async (column) => {
    state.group_col = column;
    await rerender();
    return app.compiled;
  },
  setState: async (patch) => {
    Object.assign(state, patch);
    await rerender();
    return app.compiled;
  },
  exportCsv,
};
