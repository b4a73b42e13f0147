"""`pixel-patrol check` and `api.check` on a real report (written by the real merge).

The report is built from chunk files by ``merge_chunks`` (no Snakemake, no image), so
these tests are fast; the verdicts come from the packaged built-in rules and the rules
files written here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from pixel_patrol_base import api
from pixel_patrol_base.cli import main
from pixel_patrol_base.errors import NotAReportError, RulesFileError
from pixel_patrol_base.pipeline.merge.combine import merge_chunks
from pixel_patrol_base.pipeline.shard.chunks import ChunkInfo, write_chunk
from pixel_patrol_base.qc import builtin_rules, load_rules
from pixel_patrol_base.table import catalog

WHEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
GOOD = ["a/g0.tif", "a/g1.tif", "a/g2.tif", "b/g3.tif"]


def _rows(paths: list[str], nan: list[float], load_error: list[str | None]) -> pl.DataFrame:
    n = len(paths)
    values: dict[str, list[object]] = {
        c: [None] * n for c in catalog.core_column_names() if c != "imported_path_short"
    }
    values.update(
        path=paths,
        obs_level=[0] * n,
        name=[p.rsplit("/", 1)[-1] for p in paths],
        parent=[p.rsplit("/", 1)[0] for p in paths],
        depth=[1] * n,
        file_extension=["tif"] * n,
        size_bytes=[1000] * n,
        modification_date=[WHEN] * n,
        imported_path=["."] * n,
        type=["file"] * n,
        load_error=load_error,
        dtype=[None if e else "uint16" for e in load_error],
        pixel_size_x=[None if e else 0.2 for e in load_error],
        pixel_size_y=[None if e else 0.2 for e in load_error],
        nan_fraction=[None if e else f for e, f in zip(load_error, nan, strict=True)],
        mean_intensity=[None if e else 100.0 + i for i, e in enumerate(load_error)],
    )
    return pl.DataFrame(values, strict=False)


def _report(folder: Path, rows: pl.DataFrame) -> Path:
    folder.mkdir()
    chunk = folder / "chunk.parquet"
    write_chunk(
        rows, chunk, ChunkInfo("s", rows.height, 1, 0, 0.1, WHEN.isoformat()), rows_per_part=100
    )
    output = folder / "report.parquet"
    merge_chunks(
        [chunk], output, labels={".": "data"}, metadata={"project_name": "t"}, row_group_size=2
    )
    return output


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return _report(tmp_path / "good", _rows(GOOD, [0.0] * 4, [None] * 4))


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    paths = [*GOOD, "b/nan.tif", "b/broken.tif"]
    return _report(
        tmp_path / "bad", _rows(paths, [0.0] * 4 + [0.02, 0.0], [None] * 5 + ["corrupt"])
    )


def _rules(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, "utf-8")
    return path


def test_every_row_of_a_merged_report_has_the_qc_columns(bad: Path) -> None:
    table, meta = api.load(bad)
    assert {"qc_status", "qc_issues", "qc_messages", "top_folder"} <= set(table.columns)
    assert table["qc_status"].null_count() == 0
    by_path = {r["path"]: r for r in table.iter_rows(named=True)}
    assert by_path["b/broken.tif"]["qc_status"] == "fail"
    assert "unreadable" in by_path["b/broken.tif"]["qc_issues"]
    assert by_path["b/nan.tif"]["qc_issues"] == ["nan_heavy"]
    assert len(by_path["b/nan.tif"]["qc_messages"]) == 1
    assert by_path["a/g0.tif"]["qc_status"] == "pass"
    assert by_path["a/g0.tif"]["top_folder"] == "a"
    assert meta.qc["group_by"] == "top_folder"
    assert meta.qc["rules_digest"] == builtin_rules().digest()
    assert meta.qc["counts"]["fail"] == 1
    assert meta.qc["counts"]["warn"] == 1
    assert meta.qc["summary"] == "QC: 4 pass, 1 warn (nan_heavy), 1 fail (unreadable)"
    assert [d["rule"] for d in meta.qc["dataset"]] == ["many_unreadable"]


def test_exit_status_0_on_a_good_report_and_1_on_a_fail(
    good: Path, bad: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(good)]) == 0
    out = capsys.readouterr().out
    assert out.strip().endswith("QC: 4 pass, 0 warn, 0 fail -> exit 0")
    assert main(["check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "unreadable" in out and "b/broken.tif" in out


def test_warnings_pass_unless_strict(tmp_path: Path, good: Path) -> None:
    rules = _rules(tmp_path, "version: 1\nrules:\n  - id: dim\n    warn: mean_intensity < 102\n")
    assert main(["check", str(good), "--expect", str(rules)]) == 0
    assert main(["check", str(good), "--expect", str(rules), "--strict"]) == 1


def test_a_missing_column_gives_error_and_exit_1(tmp_path: Path, good: Path) -> None:
    rules = _rules(tmp_path, "version: 1\nrules:\n  - id: odd\n    fail: no_such_metric > 1\n")
    assert main(["check", str(good), "--expect", str(rules)]) == 1
    results = api.check(good, rules)
    assert set(results.filter(pl.col("rule") == "odd")["status"]) == {"error"}


def test_invalid_input_exits_2(
    tmp_path: Path, good: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(tmp_path / "missing.parquet")]) == 2
    capsys.readouterr()
    broken = _rules(tmp_path, "version: 1\nrules:\n  - id: x\n    wran: a > 1\n")
    assert main(["check", str(good), "--expect", str(broken)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines()[0].startswith(f"pixel-patrol: error: {broken}:4: rule 'x'")
    not_parquet = tmp_path / "x.parquet"
    not_parquet.write_text("no")
    assert main(["check", str(not_parquet)]) == 2


def _no_constants(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def test_json_output_parses(tmp_path: Path, bad: Path, capsys: pytest.CaptureFixture[str]) -> None:
    infinite = _rules(
        tmp_path, "version: 1\nrules:\n  - id: inf\n    warn: mean_intensity / 0 > 1\n"
    )
    assert main(["check", str(bad), "--json", "--expect", str(infinite)]) == 1
    payload = json.loads(capsys.readouterr().out, parse_constant=_no_constants)
    assert {r["value"] for r in payload["results"] if r["rule"] == "inf"} == {None}
    assert payload["exit_status"] == 1
    assert payload["counts"]["fail"] == 1
    rules = {(r["rule"], r["status"], r["path"]) for r in payload["results"]}
    assert ("unreadable", "fail", "b/broken.tif") in rules
    assert ("nan_heavy", "warn", "b/nan.tif") in rules


@pytest.mark.parametrize("strict", [False, True])
def test_junit_xml_parses_with_a_testcase_per_rule(tmp_path: Path, bad: Path, strict: bool) -> None:
    out = tmp_path / "junit.xml"
    args = ["check", str(bad), "--junit", str(out), *(["--strict"] if strict else [])]
    assert main(args) == 1
    xml = JUnitXml.fromfile(str(out))
    (suite,) = list(xml)
    cases = {case.name: case for case in suite}
    assert list(cases) == builtin_rules().ids
    assert suite.tests == len(builtin_rules())

    def kinds(name: str) -> list[type]:
        return [type(r) for r in cases[name].result]

    assert kinds("unreadable") == [Failure]
    assert kinds("processor_failed") == []
    assert Skipped in kinds("constant")  # no std_intensity column
    assert Skipped in kinds("size_z_mismatch")  # no size_z column in this report
    nan_case = cases["nan_heavy"]
    if strict:
        assert kinds("nan_heavy") == [Failure]
        assert nan_case.result[0].type == "warn"
    else:
        assert kinds("nan_heavy") == []
        assert "b/nan.tif" in (nan_case.system_out or "")
    failures = sum(1 for c in suite for r in c.result if isinstance(r, Failure))
    assert suite.failures == failures
    assert not any(isinstance(r, Error) for c in suite for r in c.result)


def test_api_check_returns_the_verdicts(tmp_path: Path, bad: Path) -> None:
    results = api.check(bad)
    assert {"rule", "scope", "status", "path", "obs_level", "value", "message"} <= set(
        results.columns
    )
    nan = results.filter(pl.col("rule") == "nan_heavy")
    assert nan["path"].to_list() == ["b/nan.tif"] and nan["status"].to_list() == ["warn"]
    assert nan["value"].to_list() == [pytest.approx(0.02)]
    stricter = _rules(tmp_path, "version: 1\noverride:\n  nan_heavy: {fail: nan_fraction > 0.01}\n")
    assert api.check(bad, stricter).filter(pl.col("rule") == "nan_heavy")["status"][0] == "fail"
    everything = api.check(bad, include_passing=True)
    assert everything.filter(pl.col("rule") == "nan_heavy").height == 5
    with pytest.raises(RulesFileError):
        api.check(bad, tmp_path / "missing.yaml")
    with pytest.raises(NotAReportError):
        api.check(tmp_path / "missing.parquet")


def test_suggest_round_trip(
    tmp_path: Path, good: Path, bad: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--suggest", str(good)]) == 0
    suggested = _rules(tmp_path, capsys.readouterr().out)
    text = suggested.read_text("utf-8")
    assert "dtype not in {uint16}" in text
    assert "mean_intensity not in [" in text and "# " in text
    rules = load_rules(suggested)
    assert {"expected_dtype", "pixel_size_x_range", "mean_intensity_range"} <= set(rules.ids)
    assert main(["check", str(good), "--expect", str(suggested), "--strict"]) == 0
    results = api.check(good, suggested)
    assert results.filter(pl.col("status") != "pass").is_empty()
    capsys.readouterr()
    # the reference with one built-in failure: that rule is disabled, and it passes
    assert main(["check", "--suggest", str(bad)]) == 0
    from_bad = _rules(tmp_path, capsys.readouterr().out)
    assert "unreadable" not in load_rules(from_bad).ids
    assert main(["check", str(bad), "--expect", str(from_bad)]) == 0


def test_the_run_summary_line_ends_with_the_qc_counts() -> None:
    from pixel_patrol_base.cli.process import summary_line

    qc = "QC: 41 pass, 6 warn (4 blurry, 2 dark), 2 fail (saturated)"
    run = {"files_found": 49, "images": 49, "failed": 1, "shards": 2, "shards_processed": 0}
    run |= {"shards_reused": 2, "seconds": 1.0, "output": "/x/r.parquet", "qc_summary": qc}
    line = summary_line(run)
    assert line.endswith(f"; {qc}")
    assert "1 failed to load" in line and "\n" not in line


def test_qc_settings_are_checked_before_any_work(tmp_path: Path) -> None:
    from pixel_patrol_base.errors import SettingsError
    from pixel_patrol_base.pipeline.run.config import processing_fingerprint
    from pixel_patrol_base.settings import declarations, resolve_settings

    with pytest.raises(SettingsError, match="qc_group_by 'no_such_column'"):
        resolve_settings(qc_group_by="no_such_column")
    bad = _rules(tmp_path, "version: 1\nrules:\n  - id: x\n    warn: a >\n")
    with pytest.raises(RulesFileError, match=r"rules\.yaml:4:"):
        resolve_settings(expectations=bad)
    good = _rules(tmp_path, "version: 1\n")
    settings = resolve_settings(expectations=good, qc_group_by="parent")
    assert settings.to_config()["expectations"] == str(good.resolve())
    assert {"qc_group_by", "expectations"}.isdisjoint(declarations.fingerprint_keys())
    project = api.create_project("p", tmp_path, output_path=tmp_path / "o" / "r.parquet")
    from pixel_patrol_base.pipeline.run.config import RunConfig, build_config

    plain = RunConfig.from_mapping(build_config(project, resolve_settings()))
    judged = RunConfig.from_mapping(build_config(project, settings))
    assert processing_fingerprint(plain) == processing_fingerprint(judged)
    assert judged.qc_rules().digest() == load_rules(good).digest()


def test_readme_lists_every_builtin_rule_and_the_qc_options() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text("utf-8")
    for rule in builtin_rules():
        assert f"| `{rule.id}` | {rule.scope.value} |" in readme, rule.id
    for text in (
        "`--qc-group-by COL`",
        "`--expect RULES.yaml`",
        "`--junit OUT.xml`",
        "`--suggest`",
    ):
        assert text in readme, text
    for column in ("qc_status", "qc_issues", "qc_messages", "top_folder"):
        assert f"`{column}`" in readme, column
