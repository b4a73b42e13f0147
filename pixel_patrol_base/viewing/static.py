"""Write the static viewer: one offline HTML file, or a site folder for any static host.

What belongs here: assembling the page from the built assets (``viewer/static/dist``,
made by ``npm run build``) and the widget declarations, and embedding one report table.
What does not: the page's code (``viewer/static/src``), the widget format
(:mod:`pixel_patrol_base.viewing.widgets`), the command line
(:mod:`pixel_patrol_base.cli.build_viewer`).

Call graph::

    build_viewer(output, data)
      ├─ assets_dir()                     built assets, or ViewerAssetsMissingError
      ├─ widget_payload()                 load_widgets() -> the declarations as JSON
      ├─ _check_data(data)                a report (read_metadata), at most MAX_EMBEDDED_BYTES
      └─ _write_single_file / _write_site
"""

from __future__ import annotations

import base64
import json
import logging
import shutil
from pathlib import Path
from typing import Any

from pixel_patrol_base import resources
from pixel_patrol_base.errors import (
    EmbeddedDataTooLargeError,
    OutputError,
    ViewerAssetsMissingError,
)
from pixel_patrol_base.pipeline.run.outputs import (
    VIEWER_GENERATOR,
    check_viewer_page,
    check_viewer_site,
)

BUILD_COMMAND = "make viewer-assets"
"""The command that builds the assets in a source checkout (``npm ci && npm run build``)."""

MAX_EMBEDDED_BYTES = 32 * 1024 * 1024
"""The largest report (32 MiB of Parquet) that ``data=`` embeds into a single HTML file."""

SINGLE_FILE_SUFFIXES = (".html", ".htm")
INLINE_ASSETS = ("duckdb-worker.js.gz", "duckdb-eh.wasm.gz", "parquet.wasm.gz")
"""Gzipped assets the page inflates in the browser; the single file carries them base64."""
SITE_ASSETS = ("app.js", *INLINE_ASSETS)
TEMPLATE_FILES = ("index.html", "style.css", "boot.js", "app.js.gz", "manifest.json")

log = logging.getLogger(__name__)


def assets_dir() -> Path:
    """The folder of the built static-viewer assets.

    Raises:
        ViewerAssetsMissingError: when they were not built (a source checkout before
            ``make viewer-assets``).
    """
    folder = resources.viewer_dir() / "static" / "dist"
    missing = [name for name in (*TEMPLATE_FILES, *SITE_ASSETS) if not (folder / name).is_file()]
    if missing:
        raise ViewerAssetsMissingError(
            f"the static viewer's assets are not built ({', '.join(missing)} missing in "
            f"{folder}); run '{BUILD_COMMAND}' in the repository (needs Node.js and npm), "
            "or install a PixelPatrol wheel, which ships them"
        )
    return folder


def asset_manifest() -> dict[str, Any]:
    """Versions of the bundled JavaScript libraries and the sizes of the built assets."""
    manifest: dict[str, Any] = json.loads((assets_dir() / "manifest.json").read_text("utf-8"))
    return manifest


def widget_payload() -> list[dict[str, Any]]:
    """Every installed widget declaration (built-in first), as the page receives them."""
    from pixel_patrol_base.viewing.widgets import load_widgets

    return [
        {**dict(widget.declaration), "source": widget.source} for widget in load_widgets().values()
    ]


def _script_json(value: object) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``<``, ``>`` or ``&``)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _style_text(css: str) -> str:
    return css.replace("</", "<\\/")


def _check_data(data: Path, single_file: bool) -> None:
    from pixel_patrol_base.table.footer import read_metadata

    read_metadata(data)
    size = data.stat().st_size
    if single_file and size > MAX_EMBEDDED_BYTES:
        raise EmbeddedDataTooLargeError(
            f"report '{data}' is {size / 2**20:.1f} MiB; a single HTML file embeds at most "
            f"{MAX_EMBEDDED_BYTES // 2**20} MiB. Build a site folder instead "
            "(an output without .html, e.g. 'pixel-patrol build-viewer -o site/ --data "
            f"{data.name}'), or open it with 'pixel-patrol view {data.name}'"
        )


def _base64_element(element_id: str, payload: bytes, extra: str = "") -> str:
    encoded = base64.b64encode(payload).decode("ascii")
    return f'<script type="application/octet-stream" id="{element_id}"{extra}>{encoded}</script>'


def _asset_id(name: str) -> str:
    return "pp-asset-" + "".join(c if c.isalnum() else "-" for c in name)


def _page(
    folder: Path, config: dict[str, Any], payload: list[str], app: str, widgets: list[Any]
) -> str:
    # the mark that lets a rebuild replace this page, and nothing else (outputs.py)
    head = f"<head>\n{VIEWER_GENERATOR}"
    template = (folder / "index.html").read_text("utf-8").replace("<head>", head, 1)
    css = _style_text((folder / "style.css").read_text("utf-8"))
    declarations = (
        f'<script type="application/json" id="pp-declarations">{_script_json(widgets)}</script>'
    )
    parts = {
        "<!--PP_STYLE-->": f"<style>{css}</style>",
        "<!--PP_CONFIG-->": f"<script>window.__PP__ = {_script_json(config)};</script>",
        "<!--PP_PAYLOAD-->": "\n".join([declarations, *payload]),
        "<!--PP_APP-->": app,
    }
    for marker, text in parts.items():
        if marker not in template:
            raise ViewerAssetsMissingError(
                f"{folder / 'index.html'} lacks {marker}; rebuild it with '{BUILD_COMMAND}'"
            )
        template = template.replace(marker, text)
    return template


def _write_single_file(output: Path, folder: Path, data: Path | None) -> None:
    payload = [
        _base64_element(_asset_id(name), (folder / name).read_bytes())
        for name in (*INLINE_ASSETS, "app.js.gz")
    ]
    if data is not None:
        extra = f' data-name="{_attribute(data.name)}"'
        payload.append(_base64_element("pp-data", data.read_bytes(), extra))
    boot = (folder / "boot.js").read_text("utf-8").replace("</", "<\\/")
    page = _page(folder, {"mode": "inline"}, payload, f"<script>{boot}</script>", widget_payload())
    output.write_text(page, encoding="utf-8")


def _attribute(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def _write_site(output: Path, folder: Path, data: Path | None) -> None:
    assets = output / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    for name in SITE_ASSETS:
        shutil.copyfile(folder / name, assets / name)
    config: dict[str, Any] = {"mode": "site", "base": "assets/"}
    if data is not None:
        if not _same_file(data, output / data.name):
            shutil.copyfile(data, output / data.name)
        config["data"] = data.name
    page = _page(folder, config, [], '<script src="assets/app.js"></script>', widget_payload())
    (output / "index.html").write_text(page, encoding="utf-8")


def build_viewer(output: str | Path, data: str | Path | None = None) -> Path:
    """Write the static viewer to ``output`` and return the path written.

    An ``.html`` / ``.htm`` output is one self-contained file (JavaScript, styles, WASM and
    the widget declarations inlined; it opens from ``file://`` with the network off). Any
    other output is a site folder: ``index.html`` plus ``assets/``. ``data`` embeds one
    report into the single file (at most :data:`MAX_EMBEDDED_BYTES`), or is copied into the
    site folder and opened by default.

    Raises:
        ViewerAssetsMissingError: when the assets were not built.
        NotAReportError: when ``data`` is not a PixelPatrol report.
        EmbeddedDataTooLargeError: when ``data`` is too large for a single file.
        OutputExistsError: when ``output`` (or a file of the site) exists and is not a
            viewer of PixelPatrol's (or a report, for the copied ``data``).
        OutputError: when ``output`` cannot be written.
    """
    output = Path(output).expanduser()
    single_file = output.suffix.lower() in SINGLE_FILE_SUFFIXES
    folder = assets_dir()
    data_path = None if data is None else Path(data).expanduser()
    if data_path is not None:
        _check_data(data_path, single_file)
    try:
        if single_file:
            check_viewer_page(output)
            output.parent.mkdir(parents=True, exist_ok=True)
            _write_single_file(output, folder, data_path)
        else:
            if output.exists() and not output.is_dir():
                raise OutputError(
                    f"output '{output}' is a file; give a folder for a site, or a name "
                    "ending in .html for a single file"
                )
            check_viewer_site(output, SITE_ASSETS, data_path)
            _write_site(output, folder, data_path)
    except OSError as exc:
        raise OutputError(f"output '{output}' cannot be written ({exc}); pick another") from exc
    written = output if single_file else output / "index.html"
    log.info("static viewer written to %s (%d bytes)", written, written.stat().st_size)
    return output
