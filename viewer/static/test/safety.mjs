// Run the static viewer's address checks (src/source.js, src/bookmark.js) on a vector file;
// print the outcomes as JSON.
//
//   node test/safety.mjs tests/static_viewer/safety_vectors.json
//
// Each case is {function, input, expected}: data_source(raw, page) gives {kind, url | reason},
// check_bookmark(query, columns, widgets) gives {patch, notices}, to_query(state) the query
// string. tests/static_viewer/test_js_vectors.py compares each outcome with its expectation.
// Imports only pure modules of src/, so it needs node and nothing else.
import { readFileSync } from "node:fs";
import { checkBookmark, readBookmark, toQuery } from "../src/bookmark.js";
import { dataSource } from "../src/source.js";

const FUNCTIONS = {
  data_source: ({ raw, page }) => dataSource(raw, page),
  check_bookmark: ({ query, columns, widgets }) => {
    const { patch, notices } = checkBookmark(readBookmark(query), columns, widgets);
    const { controlSources: _sources, ...state } = patch;
    return { state: { ...state, filters: state.filters.map(({ source: _s, ...f }) => f) }, notices };
  },
  to_query: ({ state }) => toQuery(state).toString(),
};

const vectors = JSON.parse(readFileSync(process.argv[2], "utf8"));
const outcomes = vectors.cases.map((c) => {
  try {
    return { result: FUNCTIONS[c.function](c.input) };
  } catch (error) {
    return { error: `${error.name}: ${error.message}` };
  }
});
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
