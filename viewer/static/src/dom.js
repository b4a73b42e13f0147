// DOM helpers. Text is only ever set through textContent: nothing from the table or from a
// declaration is parsed as HTML.

/** Create element `tag` with properties/attributes `props` and children (nodes or text). */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = String(value);
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "checked" || key === "value" || key === "selected" || key === "disabled") element[key] = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Remove every child of `element`, then add `children`. */
export function replaceChildren(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** A <select> whose options are [value, label] pairs (or plain values). */
export function select(options, current, onchange, props = {}) {
  const element = h("select", { ...props, onchange: (e) => onchange(e.target.value) });
  for (const option of options) {
    const [value, label] = Array.isArray(option) ? option : [option, option];
    element.append(h("option", { value: String(value), text: label, selected: String(value) === String(current) }));
  }
  return element;
}
