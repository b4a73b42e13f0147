// The single HTML file's loader: inflate the gzipped, base64-inlined app and run it.
(async () => {
  const text = document.getElementById("pp-asset-app-js-gz").textContent;
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const code = await new Response(stream).blob();
  const script = document.createElement("script");
  script.src = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  document.body.append(script);
})().catch((error) => {
  const box = document.getElementById("pp-status");
  if (box) box.textContent = `This browser cannot start the viewer: ${error}`;
});
