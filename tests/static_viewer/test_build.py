"""build_viewer and ``pixel-patrol build-viewer`` without a browser: layout, size, errors."""

from __future__ import annotations

import base64
import gzip
import json
import re
from pathlib import Path

import pytest
from browser_helpers import TEST_BUNDLE

from pixel_patrol_base import api
from pixel_patrol_base.cli import main
from pixel_patrol_base.errors import (
    EmbeddedDataTooLargeError,
    NotAReportError,
    OutputError,
    ViewerAssetsMissingError,
)
from pixel_patrol_base.viewing import static as static_viewer
from pixel_patrol_base.viewing.widgets import load_widgets

SIZE_TARGET = 15 * 1000 * 1000


def _declarations(page: str) -> list[dict[str, object]]:
    match = re.search(r'<script type="application/json" id="pp-declarations">(.*?)</script>', page)
    assert match is not None
    declarations: list[dict[str, object]] = json.loads(match.group(1))
    return declarations


def test_single_file_is_self_contained_and_small(tmp_path: Path) -> None:
    output = api.build_viewer(tmp_path / "viewer.html")
    assert output == tmp_path / "viewer.html"
    size = output.stat().st_size
    assert size <= SIZE_TARGET, f"{size / 1e6:.1f} MB"
    page = output.read_text("utf-8")
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page), "loads something from outside"
    assert "<link" not in page
    for name in ("duckdb-eh-wasm-gz", "duckdb-worker-js-gz", "parquet-wasm-gz", "app-js-gz"):
        assert f'id="pp-asset-{name}"' in page
    assert [d["id"] for d in _declarations(page)] == list(load_widgets())
    assert 'id="pp-data"' not in page


def test_site_folder_layout(tmp_path: Path, pipeline_report: Path) -> None:
    folder = api.build_viewer(tmp_path / "site", data=pipeline_report)
    assert folder == tmp_path / "site"
    assets = sorted(p.name for p in (folder / "assets").iterdir())
    assert assets == sorted(static_viewer.SITE_ASSETS)
    assert (folder / pipeline_report.name).read_bytes() == pipeline_report.read_bytes()
    page = (folder / "index.html").read_text("utf-8")
    assert '<script src="assets/app.js"></script>' in page
    assert '"data":"report.parquet"' in page
    assert "pp-asset-" not in page


def test_embedded_data_is_the_report(tmp_path: Path, pipeline_report: Path) -> None:
    import base64

    output = api.build_viewer(tmp_path / "report.htm", data=pipeline_report)
    page = output.read_text("utf-8")
    match = re.search(r'id="pp-data" data-name="report.parquet">([A-Za-z0-9+/=]+)</script>', page)
    assert match is not None
    assert base64.b64decode(match.group(1)) == pipeline_report.read_bytes()


def test_too_large_data_points_to_the_site_folder_and_view(
    tmp_path: Path, pipeline_report: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(static_viewer, "MAX_EMBEDDED_BYTES", 1024)
    with pytest.raises(EmbeddedDataTooLargeError, match=r"site folder.*pixel-patrol view"):
        api.build_viewer(tmp_path / "big.html", data=pipeline_report)
    assert not (tmp_path / "big.html").exists()
    # the site folder has no such limit
    assert (api.build_viewer(tmp_path / "site", data=pipeline_report) / "index.html").exists()


def test_data_must_be_a_report(tmp_path: Path) -> None:
    text = tmp_path / "notes.parquet"
    text.write_text("not parquet")
    with pytest.raises(NotAReportError, match=r"notes\.parquet"):
        api.build_viewer(tmp_path / "v.html", data=text)
    with pytest.raises(NotAReportError, match="does not exist"):
        api.build_viewer(tmp_path / "v.html", data=tmp_path / "missing.parquet")


def test_site_output_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "site"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        api.build_viewer(blocker)


def test_missing_assets_name_the_build_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(static_viewer.resources, "viewer_dir", lambda: tmp_path / "viewer")
    with pytest.raises(ViewerAssetsMissingError, match="make viewer-assets"):
        api.build_viewer(tmp_path / "v.html")


def test_cli_build_viewer(
    tmp_path: Path, pipeline_report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build-viewer", "-o", str(tmp_path / "v.html")]) == 0
    assert "static viewer written to" in capsys.readouterr().out
    assert (tmp_path / "v.html").stat().st_size > 1_000_000
    code = main(["build-viewer", "-o", str(tmp_path / "s"), "--data", str(pipeline_report)])
    assert code == 0 and (tmp_path / "s" / "report.parquet").exists()
    bad = tmp_path / "bad.parquet"
    bad.write_text("x")
    assert main(["build-viewer", "-o", str(tmp_path / "w.html"), "--data", str(bad)]) == 2
    assert "bad.parquet" in capsys.readouterr().err


def _app_texts(page: str, folder: Path) -> dict[str, str]:
    """The app code a built viewer runs: inlined (gzip, base64) in a page, or a site's file."""
    texts = {}
    match = re.search(r'id="pp-asset-app-js-gz">([A-Za-z0-9+/=]+)</script>', page)
    if match is not None:
        texts["inline"] = gzip.decompress(base64.b64decode(match.group(1))).decode("utf-8")
    if (folder / "assets" / "app.js").is_file():
        texts["site"] = (folder / "assets" / "app.js").read_text("utf-8")
    return texts


def test_the_product_has_no_test_hook(tmp_path: Path) -> None:
    dist = static_viewer.assets_dir()
    assert "__viewer" not in (dist / "app.js").read_text("utf-8")
    assert "__viewer" not in gzip.decompress((dist / "app.js.gz").read_bytes()).decode("utf-8")
    single = api.build_viewer(tmp_path / "viewer.html")
    site = api.build_viewer(tmp_path / "site")
    texts = {
        **_app_texts(single.read_text("utf-8"), tmp_path),
        **_app_texts((site / "index.html").read_text("utf-8"), site),
    }
    assert set(texts) == {"inline", "site"}
    for where, text in texts.items():
        assert "__viewer" not in text, where
        assert "duckdb" in text.lower(), where  # it is the app
    # the check can fail: the test bundle, built from the same sources, has the hook
    hooked = TEST_BUNDLE / "app.js"
    assert hooked.is_file(), f"{hooked} is missing; run 'make viewer-assets'"
    assert "window.__viewer" in hooked.read_text("utf-8")
