"""scripts/mutmut_log.py: fates per module, later logs overriding earlier ones."""

from __future__ import annotations

from tests.conftest import load_script


def test_scores_per_module_and_the_last_log_wins(tmp_path, capsys):
    first = tmp_path / "a.log"
    first.write_text("⠋ 3/9 progress\n🎉 ibkit.estimators.kde.x_f__mutmut_1\n"
                     "🙁 ibkit.estimators.kde.x_f__mutmut_2\n🙁 ibkit.objectives.x_g__mutmut_1\n"
                     "🫥 ibkit.objectives.x_g__mutmut_2\n", encoding="utf-8")
    second = tmp_path / "b.log"
    second.write_text("🎉 ibkit.estimators.kde.x_f__mutmut_2\n", encoding="utf-8")
    script = load_script("mutmut_log")
    assert script.module_of("ibkit.plane.estimation.x_h__mutmut_4") == "plane/estimation.py"
    assert script.module_of("ibkit.estimators.x_g__mutmut_1") == "estimators/__init__.py"
    script.main([str(first), str(second)])
    out = capsys.readouterr().out
    assert "| `estimators/kde.py` | 2 | 0 | 0 | 0 | 100.0 % |" in out
    assert "| `objectives.py` | 0 | 1 | 1 | 0 | 0.0 % |" in out
    assert "survived: x_g__mutmut_1" in out and "no tests: x_g__mutmut_2" in out
