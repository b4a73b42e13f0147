// Where the page may load a report from (`?data=` or the site folder's `data`): the page's own
// origin loads at once; any other origin only after the user confirms it on the page (main.js
// asks, prompt.js draws the question). Pure functions: no DOM, no fetch.

const SCHEMES = ["http:", "https:", "blob:", "file:"];

const invalid = (reason) => ({ kind: "invalid", reason });

/** Whether `url` stays on the machine of the page at `page`: same origin, or a local file. */
function sameOrigin(url, page) {
  if (page.protocol === "file:") return url.protocol === "file:" && url.host === "";
  return page.origin !== "null" && url.origin === page.origin;
}

/**
 * What to do with the report address `raw`, read against the page's address `pageUrl`:
 * `{kind: "local", url}` loads at once (same origin; from a `file:` page, a file without host),
 * `{kind: "confirm", url}` waits for the user to confirm `url` (any other origin, also
 * `//host/...` and `file://host/...`), `{kind: "invalid", reason}` is never loaded.
 */
export function dataSource(raw, pageUrl) {
  const text = String(raw ?? "").trim();
  if (!text) return invalid("is empty");
  let url;
  let page;
  try {
    page = new URL(pageUrl);
    url = new URL(text, page);
  } catch {
    return invalid("is not a URL");
  }
  if (!SCHEMES.includes(url.protocol)) return invalid(`uses ${url.protocol}, not http: or https:`);
  if (url.username || url.password) return invalid("carries a user name or password");
  return { kind: sameOrigin(url, page) ? "local" : "confirm", url: url.href };
}

/** The file name a report URL shows in the header: its last path segment, decoded. */
export function reportName(href) {
  const segment = new URL(href).pathname.split("/").pop() || "report.parquet";
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The fetch options for `source`: another origin gets no cookies and no referrer. */
export function fetchOptions(source) {
  return source.kind === "local" ? {} : { credentials: "omit", referrerPolicy: "no-referrer", mode: "cors" };
}
