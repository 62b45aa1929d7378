"""The HTML report: one self-contained page per run and per sweep, checked as text and, in a
real headless Chromium, by loading it and looking at a screenshot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ibkit._errors import RunDirError
from ibkit.cli import main
from ibkit.experiments import resolve_config, run
from ibkit.experiments.sweep import run_sweep
from ibkit.report import html_report, plane_svg, sweep_html_report
from ibkit.report.html_plane import MAX_POINTS

MARKER = (255, 0, 255)  # a colour no matplotlib default uses: the test figure's fill


@pytest.fixture(scope="module")
def plane_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short tishby-tanh run (plane, dynamics, optimal curve) with a marker figure added."""
    config = resolve_config("tishby-tanh", ["train.epochs=20"])
    out = tmp_path_factory.mktemp("html") / "tt"
    run(config, out)
    from PIL import Image

    Image.new("RGB", (300, 200), MARKER).save(out / "figures" / "zz_marker.png")
    return out


def _resources(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]*)"', page)


def test_run_page_embeds_every_figure_the_summary_config_and_the_plane(plane_run: Path):
    path = html_report(plane_run)
    assert path == plane_run / "report.html"
    page = path.read_text()
    pngs = sorted((plane_run / "figures").glob("*.png"))
    assert len(pngs) >= 4  # learning curves, plane, dynamics, the marker
    assert page.count('src="data:image/png;base64,') == len(pngs)
    for p in pngs:
        assert f"figures/{p.name}" in page
    # self-contained: every resource is inline, nothing is fetched
    assert all(r.startswith("data:") for r in _resources(page))
    assert "compression_bits_binning" in page and ("met</td>" in page)
    assert "preset: tishby-tanh" in page  # the resolved config
    rows = (plane_run / "plane.csv").read_text().splitlines()[1:]
    assert page.count('<circle class="pt"') == len(rows)  # every plane point, below MAX_POINTS
    assert page.count('<svg class="plane"') == len({r.split(",")[2] for r in rows})
    assert "optimal_curve.csv" in page


def test_plane_svg_thins_long_runs_by_log_spaced_epochs_keeping_the_last():
    rows = [{"epoch": e, "layer": f"l{k}", "estimator": "binning", "I_XT_bits": e / 9000 + k,
             "I_TY_bits": 0.5} for e in range(1, 9001) for k in range(2)]
    svg = plane_svg(rows, "binning")
    n = svg.count("<circle")
    assert MAX_POINTS // 2 <= n <= MAX_POINTS + 2
    assert "epoch 9000:" in svg and "epoch 1:" in svg
    assert plane_svg(rows, "kde-upper") == ""


def test_run_page_refuses_a_folder_without_a_run(tmp_path: Path):
    with pytest.raises(RunDirError, match="holds no run"):
        html_report(tmp_path)
    with pytest.raises(RunDirError, match="holds no sweep"):
        sweep_html_report(tmp_path)


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html") / "sweep"
    run_sweep("vib-digits", ["beta=1e-3,1"], out, ["train.epochs=2"])
    return out


def test_sweep_page_from_the_cli_links_a_page_per_run(sweep_dir: Path):
    result = CliRunner().invoke(main, ["report", str(sweep_dir), "--html"])
    assert result.exit_code == 0, result.output
    page = (sweep_dir / "report.html").read_text()
    runs = sorted(p for p in sweep_dir.iterdir() if (p / "metrics.csv").is_file())
    assert len(runs) == 2
    for d in runs:
        assert f'href="{d.name}/report.html"' in page
        assert (d / "report.html").is_file()
    assert "sweep_summary.csv" in page and "sweep.csv" in page
    key = page.split("Key results", 1)[1].split("</section>", 1)[0]
    assert "test_error_pct" in key and "val_kl_bits" in key and "±" in key
    assert "train_loss" not in key  # headline metrics only
    assert page.count('src="data:image/png;base64,') == len(list(sweep_dir.glob("*.png"))) >= 1
    no_html = CliRunner().invoke(main, ["report", str(sweep_dir)])
    assert no_html.exit_code == 2 and "add --html" in no_html.output


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail("No Chromium on this CI machine: `make test` installs Debian's chromium "
                    "(scripts/ensure_chromium.sh); the HTML report must be checked in one.")
    pytest.skip("no Chromium here (make test installs it: scripts/ensure_chromium.sh)")
    return None


def _headless(browser: str, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--disable-background-networking", "--no-first-run", "--hide-scrollbars",
             "--virtual-time-budget=5000"]
    return subprocess.run([browser, *flags, *args], capture_output=True, text=True, timeout=120)


def test_the_page_loads_in_headless_chromium_with_every_figure_shown(plane_run: Path,
                                                                      tmp_path: Path):
    browser = _chromium()
    assert browser is not None
    page = html_report(plane_run)
    url = page.resolve().as_uri()
    dom = _headless(browser, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    n = len(list((plane_run / "figures").glob("*.png")))
    # set by the page's own load handler: every <img> decoded (naturalWidth > 0)
    assert f'data-figures-shown="{n}"' in dom.stdout
    assert 'data-figures-broken="0"' in dom.stdout
    shot = tmp_path / "shot.png"
    done = _headless(browser, f"--screenshot={shot}", "--window-size=1280,6000", url)
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("RGB")).reshape(-1, 3)
    marker = np.all(pixels == MARKER, axis=1).sum()
    assert marker >= 0.8 * 300 * 200  # the marker figure drawn at (close to) its size
    # the plane's points: the colour ramp's dark end and the matplotlib figures' colours
    colours = len(np.unique(pixels[::7], axis=0))
    assert colours > 500


def test_a_broken_figure_is_announced_on_the_page(plane_run: Path, tmp_path: Path):
    browser = _chromium()
    assert browser is not None
    run_copy = tmp_path / "run"
    shutil.copytree(plane_run, run_copy)
    (run_copy / "figures" / "zz_marker.png").write_bytes(b"not a png")
    dom = _headless(browser, "--dump-dom", html_report(run_copy).resolve().as_uri())
    assert 'data-figures-broken="1"' in dom.stdout
    assert "1 figure(s) could not be shown" in dom.stdout
