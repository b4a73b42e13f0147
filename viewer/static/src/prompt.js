// What the page tells or asks the user about its address: the notices for dropped bookmark
// parameters, and the question before loading a report from another origin. Every address
// and parameter is shown as text (dom.js), never as markup.
import { h, replaceChildren } from "./dom.js";

/** Show `notices` ({param, reason}) in `box`, one line each; an empty list clears it. */
export function drawNotices(box, notices) {
  if (!notices.length) {
    replaceChildren(box);
    box.hidden = true;
    return;
  }
  box.hidden = false;
  replaceChildren(
    box,
    h("p", { text: "Parts of this page's address were ignored:" }),
    h(
      "ul",
      {},
      notices.map((n) => h("li", { class: "pp-notice" }, h("code", { text: n.param }), `: ${n.reason}.`)),
    ),
  );
}

/**
 * Ask in `box` whether to load the report at `url` (another origin); `onLoad` runs when the
 * user presses the button, never before. Returns the box.
 */
export function askToLoad(box, url, onLoad) {
  const where = new URL(url);
  const host = where.host || where.protocol;
  const load = h("button", {
    type: "button",
    id: "pp-data-confirm",
    text: `Load the report from ${host}`,
    onclick: () => {
      replaceChildren(box);
      box.hidden = true;
      onLoad();
    },
  });
  const dismiss = h("button", {
    type: "button",
    id: "pp-data-dismiss",
    text: "Don't load it",
    onclick: () => {
      replaceChildren(box, h("p", { class: "pp-note", text: "Not loaded. Pick or drop a .parquet report instead." }));
    },
  });
  box.hidden = false;
  return replaceChildren(
    box,
    h("p", { text: "This page's address asks to load a report from another site:" }),
    h("p", {}, h("code", { id: "pp-data-url", text: url })),
    h("p", {
      class: "pp-note",
      text: `Loading it sends a request to ${host}, which learns your address. Nothing is requested until you press the button.`,
    }),
    h("div", { class: "pp-confirm-buttons" }, load, " ", dismiss),
  );
}
