"""``overflight.plot``: every function returns a matplotlib Figure of bounded size, with a title,
without touching pyplot's global state; the CLI saves the same figures."""

from __future__ import annotations

import struct
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from matplotlib.figure import Figure

import overflight as ovf
from overflight.plot import MAX_TIMELINE_HEIGHT_IN

SRC = Path(__file__).resolve().parents[1] / "src"
T0 = datetime(2026, 5, 31, tzinfo=UTC)
PAGE_IN = (14.0, 9.0)  # no figure is larger than a landscape page, inches


def _titles(fig: Figure) -> str:
    texts = [ax.get_title() for ax in fig.axes]
    if fig._suptitle is not None:
        texts.append(fig._suptitle.get_text())
    return "\n".join(t for t in texts if t)


def _check(fig: Figure, contains: str) -> None:
    assert isinstance(fig, Figure)
    w, h = fig.get_size_inches()
    assert w <= PAGE_IN[0] and h <= PAGE_IN[1]
    assert contains in _titles(fig)


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", head[16:24])
    return int(w), int(h)


def test_no_pyplot(tmp_path: Path) -> None:
    """Figures are built and saved with the object API: pyplot (global state) is never loaded."""
    code = (
        "import sys\n"
        "import overflight as ovf\n"
        "tr = ovf.track(58400, start='2024-06-09T12:00Z')\n"
        f"ovf.plot.track(tr).savefig({str(tmp_path / 't.png')!r})\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    env = {"PYTHONPATH": str(SRC), "OVERFLIGHT_DB": str(tmp_path / "none.db")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    assert out.stdout.strip() == "False"
    assert _png_size(tmp_path / "t.png")[0] == 1200


def test_timeline_of_many_satellites_fits_a_page(tmp_path: Path) -> None:
    with ovf.open_catalog() as cat:
        sats = cat.select(group=["military", "resource"])
        win = ovf.passes(sats, "Pyongyang General Satellite Control Center", start=T0, days=2,
                         max_off_nadir_deg=45, catalog=cat)
    assert len({w.norad_id for w in win}) > 100
    fig = ovf.plot.timeline(win, title="Overflight warning for Pyongyang General Satellite "
                            "Control Center 2026-05-31 00:00Z → 2026-06-02 00:00Z")
    _check(fig, "Overflight warning for Pyongyang")
    assert fig.get_size_inches()[1] <= MAX_TIMELINE_HEIGHT_IN
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) <= 30
    assert any("PRAETORIAN SDA ×" in lb for lb in labels)  # a constellation shares a row
    assert labels[-1].endswith("other satellites")
    out = tmp_path / "watch.png"
    fig.savefig(out, dpi=110)
    w, h = _png_size(out)
    assert w <= 1400 and h <= 900
    # The title is drawn inside the image (it used to be cut off).
    fig.canvas.draw()
    box = fig.axes[0].title.get_window_extent()
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height


def test_timeline_of_few_satellites_has_a_row_each() -> None:
    win = ovf.passes(["MALLIGYONG-1", "WORLDVIEW-3"], ["Seoul", "Rajin port"],
                     start="2024-06-09T00:00Z", days=2)
    fig = ovf.plot.timeline(win)
    labels = {t.get_text() for t in fig.axes[0].get_yticklabels()}
    assert labels == {f"{w.name} — {w.site}" for w in win}
    _check(fig, "Overflight windows")
    with pytest.raises(ValueError, match="no windows"):
        ovf.plot.timeline([])


def test_track_figure() -> None:
    tr = ovf.track(58400, start="2024-06-09T12:00Z")
    fig = ovf.plot.track(tr, marks=[ovf.site("White House"), ("Pyongyang", 39.03, 125.75)])
    _check(fig, "MALLIGYONG-1 (58400) ground track")
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"White House", "Pyongyang", "2024-06-09T12:00:00Z"} <= texts


def test_history_figure() -> None:
    from _maneuver_synth import malligyong_february

    sets, _, _ = malligyong_february()
    h = ovf.history(list(sets))
    fig = ovf.plot.history(h)
    _check(fig, "perigee and apogee")
    assert sum(1 for t in fig.axes[0].texts if "m/s" in t.get_text()) == 5
    two = ovf.plot.history(ovf.history(group="malligyong-1"), title="MALLIGYONG-1")
    _check(two, "MALLIGYONG-1")


def test_coverage_figure() -> None:
    sats = ovf.open_catalog().select(group="resource")[:12]
    cov = ovf.coverage(sats, "korean-peninsula", start=T0, days=1, grid_km=100)
    fig = ovf.plot.coverage(cov)
    _check(fig, "Maximum gap, korean-peninsula")
    assert "off-nadir ≤ 30°" in _titles(fig)
    with pytest.raises(ValueError, match="grid"):
        ovf.plot.coverage(cov.result)


def test_cli_saves_the_plot_figures(tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    from _cli import run  # the CLI test helper

    out = tmp_path / "watch.png"
    code, stdout, stderr = run(["watch", "Rajin port", "--group", "resource", "--start",
                                "2026-05-31T00:00Z", "--days", "1", "-f", "png", "-o", str(out)],
                               capsys)
    assert code == 0, stderr
    assert "windows" in stderr and not stdout  # "wrote FILE (N windows)" goes to stderr
    w, h = _png_size(out)
    assert w == 1320 and h <= MAX_TIMELINE_HEIGHT_IN * 110
