// Where the page's heavy assets come from: inline base64 elements (single HTML file) or
// files next to the page (site folder). Every asset is gzip; DecompressionStream inflates it.

const config = () => window.__PP__ || { mode: "site", base: "assets/" };

/** Bytes of a base64 string (atob, chunk-free: fine for tens of MB). */
export function base64ToBytes(text) {
  const binary = atob(text.replace(/\s+/g, ""));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) out[i] = binary.charCodeAt(i);
  return out;
}

/** Inflate gzip bytes. */
export async function gunzip(bytes) {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes; // a host already inflated it
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The element id that carries asset `name` inline. */
export const assetElementId = (name) => `pp-asset-${name.replace(/[^A-Za-z0-9]/g, "-")}`;

/** The raw (still gzipped) bytes of asset `name`. */
async function rawAsset(name) {
  const element = document.getElementById(assetElementId(name));
  if (element) return base64ToBytes(element.textContent);
  const url = new URL(config().base + name, document.baseURI);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** The inflated bytes of gzipped asset `name`. */
export async function assetBytes(name) {
  return gunzip(await rawAsset(name));
}

/** The inflated text of gzipped asset `name`. */
export async function assetText(name) {
  return new TextDecoder().decode(await assetBytes(name));
}

/** The widget declarations embedded in the page. */
export function embeddedWidgets() {
  const element = document.getElementById("pp-declarations");
  return element ? JSON.parse(element.textContent) : [];
}

/** The table embedded in the page, or null: {name, bytes}. */
export function embeddedData() {
  const element = document.getElementById("pp-data");
  if (!element) return null;
  return { name: element.dataset.name || "report.parquet", bytes: base64ToBytes(element.textContent) };
}
