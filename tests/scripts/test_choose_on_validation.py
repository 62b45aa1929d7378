"""scripts/choose_on_validation.py: the rule picks by validation and hides the others' test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import load_script


def _run(tmp_path: Path, name: str, val: float, r_w: float, test: float,
         status: str = "completed") -> Path:
    d = tmp_path / name
    d.mkdir()
    final = {"finetuned_val_error_pct": val, "r_W_pct": r_w, "r_N_pct": 10.0,
             "flops_after": 100.0, "finetuned_test_error_pct": test}
    (d / "summary.json").write_text(json.dumps(
        {"status": status, "final": final, "code": {"source_sha256": "abc"}}))
    return d


def test_the_smallest_r_w_within_the_margin_of_the_best_validation_is_chosen(tmp_path, capsys):
    a1, a2 = _run(tmp_path, "a1", 1.60, 4.0, 1.11), _run(tmp_path, "a2", 1.70, 4.2, 1.12)
    b = _run(tmp_path, "b", 1.80, 3.0, 9.99)  # mean within 0.2 of 1.65: chosen, smaller r_W
    c = _run(tmp_path, "c", 1.90, 2.0, 7.77)  # 0.25 above the best: out
    load_script("choose_on_validation").main([f"16={a1}:{a2}", f"24={b}", f"32={c}"])
    out = capsys.readouterr().out
    assert "| 24 (**chosen**) | 1 | 1.80 | 3.000 |" in out and "9.99" in out
    assert "| 16 | 2 | 1.65 ± 0.07 | 4.100 ± 0.14" in out
    assert "7.77" not in out and "1.11" not in out and "not looked at" in out
    load_script("choose_on_validation").main([f"16={a1}:{a2}", f"24={b}", "--margin", "0.1"])
    assert "| 16 (**chosen**)" in capsys.readouterr().out


def test_an_unfinished_run_is_refused(tmp_path):
    d = _run(tmp_path, "x", 1.0, 1.0, 1.0, status="running")
    with pytest.raises(SystemExit, match="not finished"):
        load_script("choose_on_validation").main([f"g={d}"])


def test_a_missing_run_directory_is_named(tmp_path):
    with pytest.raises(SystemExit, match="no summary.json"):
        load_script("choose_on_validation").main([f"g={tmp_path / 'gamma=1,2'}"])
