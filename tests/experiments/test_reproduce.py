"""ibkit reproduce: runs over seeds that skip what the current code finished, tables written
from the run directories only, and a check that fails on a row without its run directory."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from click.testing import CliRunner

from ibkit._errors import IbkitError
from ibkit._provenance import code_version, recorded_code
from ibkit.cli import main
from ibkit.experiments.reproduce import (
    BEGIN,
    END,
    check_results,
    fast_presets,
    reproduce,
    write_results,
)

TINY = ["train.epochs=2", "train.progress=false"]
HAND = "# Measured results\n\nHand-written analysis.\n\n## An older section\n\nkept as is\n"


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repro")
    reproduce(["digits-mlp", "vib-digits"], root / "results", seeds=2, overrides=TINY,
              command="ibkit reproduce digits-mlp vib-digits --seeds 2")
    return root


def _doc(root: Path) -> Path:
    doc = root / "docs" / "results.md"
    doc.parent.mkdir(exist_ok=True)
    doc.write_text(HAND)
    write_results(doc, root / "results", root)
    return doc


def test_every_run_records_the_code_that_made_it(results: Path):
    run_dir = results / "results" / "digits-mlp" / "seed=0"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["code"] == code_version()
    assert "source_sha256" in (run_dir / "config.yaml").read_text()
    assert recorded_code(run_dir) == code_version()
    assert summary["host"] and summary["finished_utc"].endswith("Z")


def test_tables_come_from_the_run_directories_and_keep_the_hand_written_text(results: Path):
    text = _doc(results).read_text()
    assert text.startswith("# Measured results\n\nHand-written analysis.")
    assert text.rstrip().endswith("## An older section\n\nkept as is")
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    runs = [results / "results" / "digits-mlp" / f"seed={s}" for s in (0, 1)]
    accs = [json.loads((r / "summary.json").read_text())["final"]["test_acc"] for r in runs]
    row = next(x for x in text.splitlines() if x.startswith("| test_acc |"))
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert cells[1] == ">= 0.95"
    assert cells[3] == f"{statistics.fmean(accs):.4g}"
    assert cells[4] == f"{statistics.stdev(accs):.4g}"
    assert cells[5] == ", ".join(f"{a:.4g}" for a in accs)
    met = sum(a >= 0.95 for a in accs)
    assert cells[7] == f"{met} of 2"
    assert "Runs: `results/digits-mlp/seed=0`, `results/digits-mlp/seed=1`." in text
    assert "### vib-digits (2 seeds)" in text and "ibkit reproduce digits-mlp vib-digits" in text
    again = write_results(results / "docs" / "results.md", results / "results", results)
    assert again.read_text().count(BEGIN) == 1  # rewritten in place, not appended


def test_check_fails_on_a_row_without_its_run_or_a_number_edited_by_hand(results: Path,
                                                                          tmp_path: Path):
    doc = _doc(results)
    check_results(doc, results / "results", results)
    edited = doc.read_text().replace("| test_acc | >= 0.95 | ibkit's own run | ",
                                     "| test_acc | >= 0.95 | ibkit's own run | 0.99")
    doc.write_text(edited)
    with pytest.raises(IbkitError, match="differ from what the run directories"):
        check_results(doc, results / "results", results)
    _doc(results)
    moved = tmp_path / "moved"
    (results / "results" / "vib-digits" / "seed=1").rename(moved)
    try:
        with pytest.raises(IbkitError, match=r"do not exist: \['results/vib-digits/seed=1'\]"):
            check_results(doc, results / "results", results)
    finally:
        moved.rename(results / "results" / "vib-digits" / "seed=1")


def test_tables_of_presets_not_in_the_results_folder_are_kept(results: Path, tmp_path: Path):
    doc = _doc(results)
    table = doc.read_text().split("### vib-digits", 1)[1].split("<!--", 1)[0]
    # a results folder with digits-mlp only (vib-digits ran elsewhere, or earlier)
    only = results / "only"
    only.mkdir(exist_ok=True)
    if not (only / "digits-mlp").exists():
        (only / "digits-mlp").symlink_to(results / "results" / "digits-mlp")
    write_results(doc, only, results)
    text = doc.read_text()
    assert "### vib-digits" + table in text  # kept word for word
    assert text.index("### digits-mlp") < text.index("### vib-digits")  # in name order
    assert text.count("### vib-digits") == 1 and text.count(BEGIN) == 1
    check_results(doc, only, results)  # the kept table's run directories exist: it checks
    moved = tmp_path / "moved"
    (results / "results" / "vib-digits").rename(moved)
    try:  # kept, but its runs are not here: --check says so
        with pytest.raises(IbkitError, match=r"do not exist: \['results/vib-digits/seed=0'"):
            check_results(doc, only, results)
    finally:
        moved.rename(results / "results" / "vib-digits")


def test_finished_runs_are_skipped_and_runs_of_other_code_are_retired(results: Path):
    preset_dir = results / "results" / "digits-mlp"
    summary = preset_dir / "seed=0" / "summary.json"
    before = summary.stat().st_mtime_ns
    reproduce(["digits-mlp"], results / "results", seeds=2, overrides=TINY)
    assert summary.stat().st_mtime_ns == before  # the current code's run was kept
    data = json.loads(summary.read_text())
    data["code"]["source_sha256"] = "0123456789abcdef"  # as if older code had made it
    summary.write_text(json.dumps(data))
    reproduce(["digits-mlp"], results / "results", seeds=2, overrides=TINY)
    assert (preset_dir / "stale" / "seed=0@0123456789abcdef" / "summary.json").is_file()
    assert recorded_code(preset_dir / "seed=0") == code_version()  # run again


def test_report_warns_about_a_run_of_other_code(results: Path, tmp_path: Path):
    import shutil

    run_dir = tmp_path / "old"
    shutil.copytree(results / "results" / "digits-mlp" / "seed=1", run_dir)
    ok = CliRunner().invoke(main, ["report", str(run_dir)])
    assert ok.exit_code == 0 and "warning" not in ok.output
    data = json.loads((run_dir / "summary.json").read_text())
    data["code"]["source_sha256"] = "feedfacefeedface"
    (run_dir / "summary.json").write_text(json.dumps(data))
    warned = CliRunner().invoke(main, ["report", str(run_dir)])
    assert warned.exit_code == 0
    assert "was made by ibkit" in warned.output and "sources feedfacefeedface" in warned.output


def test_the_cli_rewrites_and_checks_the_tables(results: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(results)
    (results / "docs" / "results.md").write_text(HAND)
    done = CliRunner().invoke(main, ["reproduce", "--tables-only"])
    assert done.exit_code == 0, done.output
    assert BEGIN in (results / "docs" / "results.md").read_text()
    checked = CliRunner().invoke(main, ["reproduce", "--check"])
    assert checked.exit_code == 0 and "matches" in checked.output
    bad = CliRunner().invoke(main, ["reproduce", "no-such-preset"])
    assert bad.exit_code == 2 and "no-such-preset" in bad.output


def test_fast_presets_are_the_small_data_ones():
    fast = fast_presets()
    assert {"tishby-tanh", "boolean-4bit", "vib-digits", "digits-mlp"} <= set(fast)
    assert not {"vib-mnist", "vibnet-lenet300", "demo"} & set(fast)


def test_run_directories_are_named_from_the_project_root_or_the_documents_folder(tmp_path):
    from ibkit.experiments.reproduce import default_root

    assert default_root(tmp_path / "docs" / "results.md") == tmp_path.resolve()
    assert default_root(tmp_path / "notes" / "results.md") == (tmp_path / "notes").resolve()


def test_a_document_outside_the_results_tree_names_runs_with_dotdot_and_checks(results: Path,
                                                                              tmp_path: Path):
    doc = tmp_path / "elsewhere" / "results.md"  # default root: its own folder, not above results
    doc.parent.mkdir()
    write_results(doc, results / "results")
    text = doc.read_text()
    runs = [line for line in text.splitlines() if line.startswith("Runs: ")]
    assert runs and all("`../" in line for line in runs)
    first = runs[0][len("Runs: "):].rstrip(".").split(", ")[0].strip("`")
    assert (doc.parent / first / "summary.json").is_file()
    check_results(doc, results / "results")  # the '..' names resolve: no error
    cli = CliRunner().invoke(main, ["reproduce", "--tables-only", "--out",
                                    str(results / "results"), "--doc", str(doc)])
    assert cli.exit_code == 0, cli.output


def test_the_projects_own_tables_match_the_committed_run_directories():
    """docs/results.md's generated tables against results/ as committed (each run's
    config.yaml and summary.json): a row edited by hand, or one whose run directory is not in
    the repository, fails here, in CI's fresh clone as anywhere."""
    root = Path(__file__).resolve().parents[2]
    assert (root / "results").is_dir(), "results/ (the runs behind docs/results.md) is missing"
    check_results(root / "docs" / "results.md", root / "results")
