"""Orbit history of objects from their element sets: SGP4-consistent mean elements per epoch.

Every quantity is derived the way SGP4 reads the element set (WGS-72): the mean semi-major
axis comes from SGP4's un-Kozai'd ("Brouwer") mean motion, ``a = (mu / n^2)^(1/3)``, which is a
few km larger than the two-body value of the published Kozai mean motion. Perigee and apogee
altitudes are ``a (1 -/+ e) - R_e`` with the WGS-72 equatorial radius (a spherical Earth, as
such histories are usually plotted). Method and caveats: ``docs/history.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from overflight.constants import SUN_MEAN_MOTION_DEG_DAY
from overflight.elements import ElementSet, apsis_altitudes_km
from overflight.frames import gmst82_rad
from overflight.times import format_utc

if TYPE_CHECKING:
    from sgp4.api import Satrec

__all__ = [
    "SSO_NODE_RATE_TOLERANCE_DEG_DAY",
    "SUN_MEAN_MOTION_DEG_DAY",
    "OrbitState",
    "OrbitTable",
    "gmst82_rad",
    "group_histories",
    "ltan_hours",
    "orbit_history",
]

F64 = npt.NDArray[np.float64]

_RAD_MIN_TO_DEG_DAY = 1440.0 * 180.0 / math.pi

# SUN_MEAN_MOTION_DEG_DAY (overflight.constants) and gmst82_rad (overflight.frames) are
# re-exported: they are part of this module's public names.

SSO_NODE_RATE_TOLERANCE_DEG_DAY = 0.05
"""An orbit counts as sun-synchronous when its J2 node rate is this close to the Sun's motion
(an LTAN drift below 0.2 min/day)."""

_SAME_EPOCH_S = 1.0


@dataclass(frozen=True, slots=True)
class OrbitState:
    """Derived mean orbit of one element set (SGP4-consistent, WGS-72).

    ``semi_major_axis_km`` from SGP4's un-Kozai'd mean motion; altitudes above the WGS-72
    equatorial radius; ``mean_motion_rev_day`` as published (Kozai);
    ``mean_motion_dot_rev_day2`` the rate of change dn/dt (twice the TLE's "ndot/2" field);
    ``bstar`` in 1/earth radii; ``node_rate_deg_day`` SGP4's secular (J2, J4) node drift;
    ``ltan_hours`` mean local solar time of the ascending node, only for sun-synchronous orbits.
    """

    norad_id: int
    name: str
    epoch: datetime
    semi_major_axis_km: float
    perigee_alt_km: float
    apogee_alt_km: float
    eccentricity: float
    inclination_deg: float
    raan_deg: float
    arg_perigee_deg: float
    mean_motion_rev_day: float
    mean_motion_dot_rev_day2: float
    bstar: float
    period_min: float
    node_rate_deg_day: float
    ltan_hours: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (epoch ISO 8601 UTC with ``Z``, microseconds)."""
        return {
            "norad_id": self.norad_id,
            "name": self.name,
            "epoch": format_utc(self.epoch, decimals=6),
            "semi_major_axis_km": round(self.semi_major_axis_km, 4),
            "perigee_alt_km": round(self.perigee_alt_km, 4),
            "apogee_alt_km": round(self.apogee_alt_km, 4),
            "eccentricity": self.eccentricity,
            "inclination_deg": self.inclination_deg,
            "raan_deg": self.raan_deg,
            "arg_perigee_deg": self.arg_perigee_deg,
            "mean_motion_rev_day": self.mean_motion_rev_day,
            "mean_motion_dot_rev_day2": self.mean_motion_dot_rev_day2,
            "bstar": self.bstar,
            "period_min": round(self.period_min, 5),
            "node_rate_deg_day": round(self.node_rate_deg_day, 6),
            "ltan_hours": None if self.ltan_hours is None else round(self.ltan_hours, 4),
        }


def group_histories(records: Iterable[ElementSet]) -> dict[int, list[ElementSet]]:
    """Element sets grouped by NORAD id, each list sorted by epoch.

    Of several element sets with the same epoch (within 1 s: a fit re-published with other
    values), the one given last is kept, as the newest publication.
    """
    by_id: dict[int, list[tuple[datetime, int, ElementSet]]] = {}
    for k, es in enumerate(records):
        by_id.setdefault(es.norad_id, []).append((es.epoch, k, es))
    out: dict[int, list[ElementSet]] = {}
    for nid in sorted(by_id):
        items = sorted(by_id[nid], key=lambda t: (t[0], t[1]))
        kept: list[ElementSet] = []
        for _, _, es in items:
            if kept and (es.epoch - kept[-1].epoch).total_seconds() < _SAME_EPOCH_S:
                kept[-1] = es
            else:
                kept.append(es)
        out[nid] = kept
    return out


def ltan_hours(raan_deg: npt.ArrayLike, jd_utc: npt.ArrayLike) -> F64:
    """Mean local solar time of the ascending node at the given instants, hours in [0, 24).

    The node's Earth-fixed longitude is RAAN - GMST (TEME right ascension); its local mean
    solar time is UT + longitude / 15.
    """
    jd = np.asarray(jd_utc, dtype=float)
    lon_deg = np.asarray(raan_deg, dtype=float) - np.degrees(gmst82_rad(jd))
    ut_hours = np.mod(jd - 0.5, 1.0) * 24.0
    return np.mod(ut_hours + lon_deg / 15.0, 24.0)


@dataclass(frozen=True, eq=False)
class OrbitTable:
    """Columnar mean elements of many objects' histories (object by object, epoch order).

    ``start[k]:start[k+1]`` are the rows of object ``norad_ids[k]``. Angles in radians,
    ``a_km`` SGP4's mean semi-major axis, ``jd``/``fr`` the two-part Julian epoch (UTC),
    ``node_rate``/``argp_rate`` SGP4's secular rates in rad/min.
    """

    elsets: list[ElementSet]
    satrecs: list[Satrec]
    norad: npt.NDArray[np.int64]
    start: npt.NDArray[np.int64]
    jd: F64
    fr: F64
    a_km: F64
    ecc: F64
    inc: F64
    raan: F64
    argp: F64
    node_rate: F64

    @classmethod
    def from_histories(
        cls, histories: Mapping[int, Sequence[ElementSet]] | Iterable[ElementSet]
    ) -> OrbitTable:
        """Build from NORAD id → epoch-sorted element sets, or from loose records (grouped and
        sorted with :func:`group_histories`)."""
        if isinstance(histories, Mapping):
            histories = group_histories(es for hist in histories.values() for es in hist)
        else:
            histories = group_histories(histories)
        elsets: list[ElementSet] = []
        starts: list[int] = []
        ids: list[int] = []
        for nid, hist in histories.items():
            if not hist:
                continue
            starts.append(len(elsets))
            ids.append(nid)
            elsets.extend(hist)
        sats = [es.to_satrec() for es in elsets]
        n = len(sats)

        def col(attr: str) -> F64:
            return np.fromiter((getattr(s, attr) for s in sats), dtype=float, count=n)

        norad = np.repeat(np.array(ids, dtype=np.int64), np.diff([*starts, n]).astype(np.int64))
        return cls(
            elsets=elsets,
            satrecs=sats,
            norad=norad,
            start=np.array([*starts, n], dtype=np.int64),
            jd=col("jdsatepoch"),
            fr=col("jdsatepochF"),
            # The one definition (elements.sgp4_semi_major_axis_km), equal to Satrec.a × R.
            a_km=np.fromiter((es.semi_major_axis_km for es in elsets), dtype=float, count=n),
            ecc=col("ecco"),
            inc=col("inclo"),
            raan=col("nodeo"),
            argp=col("argpo"),
            node_rate=col("nodedot"),
        )

    def __len__(self) -> int:
        return len(self.elsets)

    @property
    def objects(self) -> int:
        """Number of objects."""
        return int(self.start.size - 1)

    def rows(self, k: int) -> slice:
        """Rows of the k-th object."""
        return slice(int(self.start[k]), int(self.start[k + 1]))

    @property
    def perigee_alt_km(self) -> F64:
        """Mean perigee altitude per row, km (:func:`overflight.elements.apsis_altitudes_km`)."""
        out: F64 = apsis_altitudes_km(self.a_km, self.ecc)[0]
        return out

    @property
    def apogee_alt_km(self) -> F64:
        """Mean apogee altitude per row, km (:func:`overflight.elements.apsis_altitudes_km`)."""
        out: F64 = apsis_altitudes_km(self.a_km, self.ecc)[1]
        return out

    @property
    def days(self) -> F64:
        """Epochs as days since the first epoch of the table (float)."""
        if len(self) == 0:
            return np.zeros(0)
        out: F64 = (self.jd - self.jd[0]) + (self.fr - self.fr[0])
        return out

    def sun_synchronous(self) -> npt.NDArray[np.bool_]:
        """Rows whose SGP4 node rate is within tolerance of the Sun's mean motion."""
        rate = self.node_rate * _RAD_MIN_TO_DEG_DAY
        return np.abs(rate - SUN_MEAN_MOTION_DEG_DAY) <= SSO_NODE_RATE_TOLERANCE_DEG_DAY

    def states(self) -> list[OrbitState]:
        """One :class:`OrbitState` per row."""
        ltan = ltan_hours(np.degrees(self.raan), self.jd + self.fr)
        sso = self.sun_synchronous()
        hp, ha = self.perigee_alt_km, self.apogee_alt_km
        rate = self.node_rate * _RAD_MIN_TO_DEG_DAY
        out = []
        for k, es in enumerate(self.elsets):
            out.append(
                OrbitState(
                    norad_id=es.norad_id,
                    name=es.name,
                    epoch=es.epoch,
                    semi_major_axis_km=float(self.a_km[k]),
                    perigee_alt_km=float(hp[k]),
                    apogee_alt_km=float(ha[k]),
                    eccentricity=es.eccentricity,
                    inclination_deg=es.inclination_deg,
                    raan_deg=es.raan_deg,
                    arg_perigee_deg=es.arg_perigee_deg,
                    mean_motion_rev_day=es.mean_motion_rev_day,
                    mean_motion_dot_rev_day2=2.0 * es.mean_motion_dot,
                    bstar=es.bstar,
                    period_min=es.period_min,
                    node_rate_deg_day=float(rate[k]),
                    ltan_hours=float(ltan[k]) if sso[k] else None,
                )
            )
        return out


def orbit_history(elsets: Iterable[ElementSet]) -> list[OrbitState]:
    """Derived mean orbit per element set, grouped by object and sorted by epoch."""
    return OrbitTable.from_histories(elsets).states()
