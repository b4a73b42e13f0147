"""Bad input to ``pixel-patrol view`` and ``api.view``: one clear line, nothing started."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pixel_patrol_base import api, cli
from pixel_patrol_base.errors import NotAReportError, PortInUseError, ViewOptionError


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something listens on for the duration of the test."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


@pytest.fixture
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = cli.main(["view", *argv])
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return status, lines[0]


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.parquet"
    status, line = _cli([str(missing), "--no-browser"], capsys)
    assert status == 2
    assert "nope.parquet" in line and "does not exist" in line
    with pytest.raises(NotAReportError, match="does not exist"):
        api.view(missing, open_browser=False)


def test_not_parquet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "notes.parquet"
    bogus.write_text("just text\n")
    status, line = _cli([str(bogus), "--no-browser"], capsys)
    assert status == 2 and "is not a Parquet file" in line
    with pytest.raises(NotAReportError, match="not a Parquet file"):
        api.view(bogus, open_browser=False)


def test_parquet_of_another_kind_names_missing_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"path": ["a"], "score": [1.0]}), other)
    status, line = _cli([str(other), "--no-browser"], capsys)
    assert status == 2
    assert "not a PixelPatrol table" in line
    assert "child_id" in line and "obs_level" in line and "size_bytes" in line
    assert "score" not in line
    with pytest.raises(NotAReportError, match="lacks the columns child_id"):
        api.view(other, open_browser=False)


def test_port_in_use(
    pipeline_report: Path, busy_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    status, line = _cli([str(pipeline_report), "--no-browser", "--port", str(busy_port)], capsys)
    assert status == 2 and f"port {busy_port}" in line and "already in use" in line
    with pytest.raises(PortInUseError, match=str(busy_port)):
        api.view(pipeline_report, port=busy_port, open_browser=False)


@pytest.mark.parametrize(
    ("argv", "kwargs", "expected"),
    [
        (
            ["--widgets-exclude", "no-such-widget"],
            {"widgets_excluded": {"no-such-widget"}},
            "unknown widget id(s) no-such-widget",
        ),
        (
            ["--group-by", "no_such_col"],
            {"group_col": "no_such_col"},
            "group column 'no_such_col' is not a column",
        ),
        (
            ["--filter-col", "file_extension", "--filter-op", "like", "--filter-val", "x"],
            {"filter_by": {"file_extension": {"op": "like", "value": "x"}}},
            "filter operator 'like' is unknown",
        ),
        (
            ["--filter-col", "nope", "--filter-op", "eq", "--filter-val", "x"],
            {"filter_by": {"nope": {"op": "eq", "value": "x"}}},
            "filter column 'nope' is not a column",
        ),
        (
            ["--filter-col", "size_bytes", "--filter-op", "gt", "--filter-val", "big"],
            {"filter_by": {"size_bytes": {"op": "gt", "value": "big"}}},
            "is not a number",
        ),
        (
            ["--dim", "Q=0"],
            {"dimensions": {"q": "0"}},
            "dimension 'Q' is not one of this report's; pass one of T, C, Z, S",
        ),
        (["--dim", "Z=-1"], {"dimensions": {"Z": "-1"}}, "is not an index >= 0"),
        (
            ["--palette", "rainbow-ish"],
            {"palette": "rainbow-ish"},
            "palette 'rainbow-ish' is unknown",
        ),
    ],
)
def test_bad_options(
    pipeline_report: Path,
    free_port: int,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    kwargs: dict[str, object],
    expected: str,
) -> None:
    status, line = _cli(
        [str(pipeline_report), "--no-browser", "--port", str(free_port), *argv], capsys
    )
    assert status == 2
    assert expected.split("'")[0] in line
    assert expected.lower() in line.lower() or expected.split(" ")[0] in line
    with pytest.raises(ViewOptionError) as info:
        api.view(pipeline_report, port=free_port, open_browser=False, **kwargs)  # type: ignore[arg-type]
    assert expected.lower() in str(info.value).lower()


def test_incomplete_filter_and_bad_dim_syntax(
    pipeline_report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, line = _cli([str(pipeline_report), "--filter-col", "name"], capsys)
    assert status == 2 and "go together" in line
    status, line = _cli([str(pipeline_report), "--dim", "Z"], capsys)
    assert status == 2 and "AXIS=INDEX" in line


def test_list_widgets(capsys: pytest.CaptureFixture[str]) -> None:
    from pixel_patrol_base.viewing.widgets import load_widgets

    assert cli.main(["view", "--list-widgets"]) == 0
    out = capsys.readouterr().out.splitlines()
    ids = [line.split()[0] for line in out]
    assert ids == list(load_widgets())
    assert {"summary", "histogram", "mosaic", "custom-plot"} <= set(ids)


def test_good_options_make_the_state(pipeline_report: Path, free_port: int) -> None:
    from pixel_patrol_base.viewing.options import ViewOptions
    from pixel_patrol_base.viewing.serve import prepare_view, streamlit_command
    from pixel_patrol_base.viewing.widgets import Filter, ViewState

    options = ViewOptions(
        group_col="file_extension",
        filter_by={
            "file_extension": {"op": "in", "value": "tif,png"},
            "size_bytes": {"op": "gt", "value": "10"},
        },
        dimensions={"z": "0"},
        widgets_excluded={"histogram"},
        is_show_significance=True,
    )
    launch = prepare_view(pipeline_report, options, port=free_port)
    state = launch.state
    assert state.group_col == "file_extension"
    assert Filter("size_bytes", "gt", 10) in state.filters
    assert dict(state.dims) == {"Z": 0}
    assert state.widgets_excluded == ("histogram",) and state.is_show_significance
    command = streamlit_command(launch)
    assert "--server.address=127.0.0.1" in command and f"--server.port={free_port}" in command
    query = command[command.index("--state") + 1]
    from urllib.parse import parse_qs

    parsed = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(query).items()}
    assert ViewState.from_query_params(parsed) == state
