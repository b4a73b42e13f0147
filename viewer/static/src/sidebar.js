// The sidebar: data, view mode, group by, filters, dimensions, display, widgets, export.
// Same controls as the Streamlit app's sidebar (viewer/pp_viewer/sidebar.py).
import { AXES, FILTER_OPS } from "./compile.js";
import { h, replaceChildren, select } from "./dom.js";
import { offeredGroups } from "./grouping.js";
import { DEFAULT_PALETTE, PALETTES } from "./palettes.js";
import { groupOptions } from "./widgets.js";

/** Fill the group-by list with the offered groups (by label); a group asked for by name stays. */
function fillGroups(ctx, group) {
  const { state, app } = ctx;
  offeredGroups(app.columns, ctx.sql)
    .catch(() => groupOptions(app.columns).map((c) => [c, c]))
    .then((choices) => {
      const chosen = state.group_col;
      if (chosen && !choices.some(([c]) => c === chosen) && groupOptions(app.columns).includes(chosen)) {
        choices.push([chosen, chosen]);
      }
      replaceChildren(
        group,
        [["", "(no grouping)"], ...choices].map(([value, label]) =>
          h("option", { value, text: label, selected: value === (chosen ?? "") }),
        ),
      );
      group.dataset.filled = "true";
    });
}
function section(title, ...children) {
  return h("div", { class: "pp-section" }, h("h3", { text: title }), children);
}

function dataSection(ctx) {
  const input = h("input", {
    type: "file",
    id: "pp-file",
    accept: ".parquet",
    onchange: (e) => e.target.files[0] && ctx.loadFile(e.target.files[0]),
  });
  return section(
    "Report",
    input,
    h("p", {
      class: "pp-note",
      text: ctx.app.fileName ? `Loaded: ${ctx.app.fileName}` : "Pick or drop a .parquet report.",
    }),
  );
}

function filterSection(ctx) {
  const { state, app } = ctx;
  const list = state.filters.map((f, i) =>
    h(
      "div",
      { class: "pp-filter" },
      h("span", { text: `${f.column} ${f.op} ${f.value}` }),
      h("button", {
        type: "button",
        title: "remove this filter",
        text: "✕",
        onclick: () => {
          state.filters = state.filters.filter((_, j) => j !== i);
          ctx.rerender();
        },
      }),
    ),
  );
  const columns = Object.keys(app.columns);
  const column = select(columns, columns[0], () => {}, { id: "pp-filter-col" });
  const op = select(FILTER_OPS, "eq", () => {}, { id: "pp-filter-op" });
  const value = h("input", { type: "text", id: "pp-filter-val", placeholder: "value (comma-separated for 'in')" });
  const add = h("button", {
    type: "button",
    id: "pp-filter-add",
    text: "Add filter",
    onclick: () => {
      state.filters = [...state.filters, { column: column.value, op: op.value, value: value.value }];
      ctx.rerender();
    },
  });
  return section("Filters", list, column, op, value, add);
}

async function dimensionSection(ctx, box) {
  const { state, app } = ctx;
  const present = AXES.filter((a) => `dim_${a.toLowerCase()}` in app.columns);
  if (!present.length) return;
  const cells = [];
  for (const axis of present) {
    const column = `dim_${axis.toLowerCase()}`;
    const rows = await ctx.sql(
      `SELECT DISTINCT "${column}" AS v FROM pp_data WHERE "${column}" IS NOT NULL ORDER BY 1 LIMIT 1000`,
      [],
    );
    const options = [["", "all"], ...rows.map((r) => [String(r.v), String(r.v)])];
    const current = axis in state.dims ? String(state.dims[axis]) : "";
    cells.push(
      h(
        "label",
        { class: "pp-dim" },
        h("span", { text: axis }),
        select(
          options,
          current,
          (v) => {
            const dims = { ...state.dims };
            if (v === "") delete dims[axis];
            else dims[axis] = Number(v);
            state.dims = dims;
            ctx.rerender();
          },
          { id: `pp-dim-${axis}`, disabled: options.length === 1 },
        ),
      ),
    );
  }
  box.append(section("Dimensions", h("div", { class: "pp-dims" }, cells)));
}

function displaySection(ctx) {
  const { state } = ctx;
  const significance = h(
    "label",
    { class: "pp-check" },
    h("input", {
      type: "checkbox",
      id: "pp-significance",
      checked: state.is_show_significance,
      onchange: (e) => {
        state.is_show_significance = e.target.checked;
        ctx.rerender();
      },
    }),
    "Significance (Mann-Whitney U)",
  );
  const note = state.is_show_significance
    ? h("p", {
        class: "pp-note",
        id: "pp-significance-note",
        text: "Significance brackets are not drawn in the static viewer; open the report with 'pixel-patrol view' to see them.",
      })
    : null;
  const palette = select(
    Object.keys(PALETTES),
    state.palette ?? DEFAULT_PALETTE,
    (v) => {
      state.palette = v;
      ctx.rerender();
    },
    { id: "pp-palette" },
  );
  return section(
    "Display",
    significance,
    note,
    h("label", { class: "pp-field" }, h("span", { text: "Palette" }), palette),
  );
}

function widgetSection(ctx) {
  const { state, widgets } = ctx;
  const items = widgets.map((w) =>
    h(
      "label",
      { class: "pp-check" },
      h("input", {
        type: "checkbox",
        checked: !state.widgets_excluded.includes(w.id),
        dataset: { widget: w.id },
        onchange: (e) => {
          state.widgets_excluded = e.target.checked
            ? state.widgets_excluded.filter((id) => id !== w.id)
            : [...state.widgets_excluded, w.id];
          ctx.rerender();
        },
      }),
      `${w.title} (${w.id})`,
    ),
  );
  return h("details", { class: "pp-section" }, h("summary", { text: "Widgets" }), items);
}

/** Draw the whole sidebar into `box`. */
export function drawSidebar(box, ctx) {
  const { state, app } = ctx;
  replaceChildren(box, dataSection(ctx));
  if (!app.fileName) return;
  const mode = h(
    "div",
    { class: "pp-mode" },
    ["issues", "overview", "full"].map((m) =>
      h(
        "label",
        {},
        h("input", {
          type: "radio",
          name: "pp-mode",
          value: m,
          checked: state.mode === m,
          onchange: () => {
            state.mode = m;
            state.image = null; // a mode shows the report: it closes the single-image view
            ctx.rerender();
          },
        }),
        { issues: "Issues", overview: "Overview", full: "Full" }[m],
      ),
    ),
  );
  const current = state.group_col ? [[state.group_col, state.group_col]] : [];
  const group = select(
    [["", "(no grouping)"], ...current],
    state.group_col ?? "",
    (v) => {
      state.group_col = v || null;
      ctx.rerender();
    },
    { id: "pp-group" },
  );
  fillGroups(ctx, group);
  box.append(section("View", mode), section("Group by", group), filterSection(ctx));
  const dims = h("div");
  box.append(dims);
  dimensionSection(ctx, dims);
  box.append(
    displaySection(ctx),
    widgetSection(ctx),
    section(
      "Export",
      h("button", {
        type: "button",
        id: "pp-export",
        text: "Download filtered rows (CSV)",
        onclick: () => ctx.exportCsv(),
      }),
    ),
  );
}
