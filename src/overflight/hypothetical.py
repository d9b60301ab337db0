"""Hypothetical satellites: element sets for orbits that do not (yet) exist, clearly labelled.

Built as SGP4 mean elements (WGS-72, no drag: ``bstar = 0``) so the propagator treats them like
any published element set. Altitudes are ``a − 6378.135 km`` with ``a`` the semi-major axis
SGP4 derives from the mean motion (:attr:`ElementSet.semi_major_axis_km`), so a circular
orbit built at 500 km reports ``perigee_alt_km == 500``.

* :func:`from_classical`: any classical elements.
* :func:`sso`: sun-synchronous circular orbits from altitude and local time of the ascending
  node (LTAN). The inclination makes SGP4's secular nodal rate equal the mean Sun's motion,
  360°/365.2422 d (J2 closed form, then refined on SGP4's own rate, which includes J4); the
  RAAN puts the ascending node at the given *mean* local solar time at the epoch:
  ``RAAN = GMST − 15°·UT1_h + 15°·LTAN_h`` (the node's longitude is RAAN − GMST in SGP4's TEME
  convention, GMST of the IAU 1982 formula as :func:`overflight.frames.gmst82_rad`, and mean local
  time is UT1 + longitude/15°). True (apparent) local time differs by
  the equation of time, up to ±16 minutes.
* :func:`walker`: a Walker delta pattern i:t/p/f.

Every hypothetical satellite gets a NORAD id at or above :data:`HYPOTHETICAL_ID_BASE` and a name
starting ``HYPOTHETICAL-``; :func:`is_hypothetical` recognises them.
"""

from __future__ import annotations

import math
from datetime import datetime

from overflight.constants import (
    DAY_S,
    SUN_MEAN_MOTION_DEG_DAY,
    WGS72_J2,
    WGS72_MU_KM3_S2,
    WGS72_RADIUS_KM,
)
from overflight.elements import ElementSet, apsis_altitudes_km, kozai_mean_motion_rev_day
from overflight.errors import OverflightError

__all__ = [
    "HYPOTHETICAL_ID_BASE",
    "HypotheticalError",
    "from_classical",
    "is_hypothetical",
    "ltan_raan_deg",
    "parse_orbit_spec",
    "parse_sso_spec",
    "parse_walker_spec",
    "sso",
    "sso_inclination_deg",
    "walker",
]

HYPOTHETICAL_ID_BASE = 900_000
"""NORAD ids from here up are reserved for hypothetical satellites (real ids are < 340,000)."""
PREFIX = "HYPOTHETICAL-"
_MIN_ALT_KM = 150.0
_MAX_ALT_KM = 50_000.0


class HypotheticalError(OverflightError):
    """Impossible orbit or malformed specification (one-line message)."""


def is_hypothetical(es: ElementSet) -> bool:
    """True for element sets made by this module (reserved id range or HYPOTHETICAL- name)."""
    return es.norad_id >= HYPOTHETICAL_ID_BASE or es.name.startswith(PREFIX)


def _check_alt(altitude_km: float) -> None:
    if not (math.isfinite(altitude_km) and _MIN_ALT_KM <= altitude_km <= _MAX_ALT_KM):
        raise HypotheticalError(
            f"altitude {altitude_km:g} km must be between {_MIN_ALT_KM:g} and {_MAX_ALT_KM:g} km"
        )


def _mean_motion_rev_day(semi_major_axis_km: float, eccentricity: float,
                         inclination_deg: float) -> float:
    # SGP4's mean semi-major axis is the one altitudes are reported from (docs/history.md).
    return kozai_mean_motion_rev_day(semi_major_axis_km, eccentricity, inclination_deg)


def from_classical(
    *,
    altitude_km: float,
    inclination_deg: float,
    raan_deg: float,
    epoch: datetime,
    eccentricity: float = 0.0,
    arg_perigee_deg: float = 0.0,
    mean_anomaly_deg: float = 0.0,
    norad_id: int = HYPOTHETICAL_ID_BASE,
    name: str = "",
) -> ElementSet:
    """Mean elements of a hypothetical satellite; ``altitude_km`` is ``a − 6378.135 km``."""
    _check_alt(altitude_km)
    if not 0.0 <= inclination_deg <= 180.0:
        raise HypotheticalError(f"inclination {inclination_deg:g}° must be in 0..180")
    if not 0.0 <= eccentricity < 0.9:
        raise HypotheticalError(f"eccentricity {eccentricity:g} must be in [0, 0.9)")
    a = WGS72_RADIUS_KM + altitude_km
    perigee_km = float(apsis_altitudes_km(a, eccentricity)[0])
    if perigee_km < 100.0:
        raise HypotheticalError(f"perigee {perigee_km:.0f} km is below 100 km")
    if norad_id < HYPOTHETICAL_ID_BASE:
        raise HypotheticalError(
            f"hypothetical NORAD ids start at {HYPOTHETICAL_ID_BASE}, got {norad_id}"
        )
    if epoch.tzinfo is None:
        raise HypotheticalError("epoch must be timezone-aware UTC")
    label = name or f"ORBIT-{altitude_km:g}KM-I{inclination_deg:g}"
    return ElementSet(
        norad_id=norad_id,
        epoch=epoch,
        mean_motion_rev_day=_mean_motion_rev_day(a, eccentricity, inclination_deg),
        eccentricity=eccentricity,
        inclination_deg=inclination_deg,
        raan_deg=raan_deg % 360.0,
        arg_perigee_deg=arg_perigee_deg % 360.0,
        mean_anomaly_deg=mean_anomaly_deg % 360.0,
        name=label if label.startswith(PREFIX) else PREFIX + label,
    )


def _node_rate_deg_day(altitude_km: float, inclination_deg: float, eccentricity: float) -> float:
    """SGP4's secular nodal rate (deg/day) for these mean elements."""
    from datetime import UTC

    es = ElementSet(
        norad_id=HYPOTHETICAL_ID_BASE,
        epoch=datetime(2026, 1, 1, tzinfo=UTC),
        mean_motion_rev_day=_mean_motion_rev_day(WGS72_RADIUS_KM + altitude_km, eccentricity,
                                                 inclination_deg),
        eccentricity=eccentricity,
        inclination_deg=inclination_deg,
        raan_deg=0.0,
        arg_perigee_deg=0.0,
        mean_anomaly_deg=0.0,
    )
    return float(es.to_satrec().nodedot) * 1440.0 * 180.0 / math.pi


def sso_inclination_deg(altitude_km: float, eccentricity: float = 0.0) -> float:
    """Inclination (deg) that makes the orbit sun-synchronous under SGP4 (see module doc)."""
    _check_alt(altitude_km)
    a = WGS72_RADIUS_KM + altitude_km
    n = math.sqrt(WGS72_MU_KM3_S2 / a**3)  # rad/s
    p = a * (1.0 - eccentricity**2)
    target_rad_s = math.radians(SUN_MEAN_MOTION_DEG_DAY) / DAY_S
    cos_i = -target_rad_s / (1.5 * n * WGS72_J2 * (WGS72_RADIUS_KM / p) ** 2)
    if cos_i < -1.0:
        raise HypotheticalError(
            f"no sun-synchronous orbit at {altitude_km:g} km (J2 precession too weak above "
            "about 5,900 km)"
        )
    # The nodal rate is close to proportional to cos i: a few secant steps on SGP4's own rate.
    c0, c1 = cos_i, cos_i * 1.001
    f0 = _node_rate_deg_day(altitude_km, math.degrees(math.acos(c0)), eccentricity)
    f0 -= SUN_MEAN_MOTION_DEG_DAY
    for _ in range(8):
        f1 = _node_rate_deg_day(altitude_km, math.degrees(math.acos(max(-1.0, c1))),
                                eccentricity) - SUN_MEAN_MOTION_DEG_DAY
        if abs(f1) < 1e-9 or f1 == f0:
            break
        c0, c1, f0 = c1, c1 - f1 * (c1 - c0) / (f1 - f0), f1
    if not -1.0 <= c1 <= 0.0:
        raise HypotheticalError(f"no sun-synchronous orbit at {altitude_km:g} km")
    return math.degrees(math.acos(c1))


def ltan_raan_deg(ltan_hours: float, epoch: datetime) -> float:
    """RAAN (deg, TEME) that puts the ascending node at mean local time ``ltan_hours`` at epoch."""
    from overflight.frames import gmst82_rad
    from overflight.times import timescale, utc

    if not (math.isfinite(ltan_hours) and 0.0 <= ltan_hours < 24.0):
        raise HypotheticalError(f"local time of the ascending node {ltan_hours:g} h must be in "
                                "[0, 24)")
    t = timescale().from_datetime(utc(epoch))
    ut1_hours = ((float(t.ut1) - 0.5) % 1.0) * 24.0
    gmst_deg = math.degrees(float(gmst82_rad(t.whole, t.ut1_fraction)))
    return (gmst_deg - 15.0 * ut1_hours + 15.0 * ltan_hours) % 360.0


def _hhmm(hours: float) -> str:
    minutes = round(hours * 60.0) % 1440
    return f"{minutes // 60:02d}{minutes % 60:02d}"


def sso(
    altitude_km: float,
    ltan_hours: float,
    epoch: datetime,
    *,
    count: int = 1,
    first_id: int = HYPOTHETICAL_ID_BASE,
) -> list[ElementSet]:
    """``count`` satellites evenly spaced in one circular sun-synchronous plane.

    The first is at its ascending node at ``epoch``; names ``HYPOTHETICAL-SSO-<alt>KM-<hhmm>-k``.
    """
    if not 1 <= count <= 1000:
        raise HypotheticalError(f"count {count} must be between 1 and 1000")
    inc = sso_inclination_deg(altitude_km)
    raan = ltan_raan_deg(ltan_hours, epoch)
    return [
        from_classical(
            altitude_km=altitude_km,
            inclination_deg=inc,
            raan_deg=raan,
            epoch=epoch,
            mean_anomaly_deg=360.0 * k / count,
            norad_id=first_id + k,
            name=f"{PREFIX}SSO-{altitude_km:g}KM-{_hhmm(ltan_hours)}-{k + 1}",
        )
        for k in range(count)
    ]


def walker(
    altitude_km: float,
    inclination_deg: float,
    total: int,
    planes: int,
    phasing: int,
    epoch: datetime,
    *,
    raan0_deg: float = 0.0,
    first_id: int = HYPOTHETICAL_ID_BASE,
) -> list[ElementSet]:
    """Walker delta pattern i:t/p/f, circular.

    Plane ``j`` (0..p−1) has RAAN ``raan0 + 360·j/p``; satellite ``k`` in it has argument of
    latitude ``360·k/(t/p) + 360·f·j/t`` at ``epoch``.
    """
    if total < 1 or planes < 1 or total % planes:
        raise HypotheticalError(f"Walker pattern {total}/{planes}/{phasing}: the number of "
                                "satellites must be a positive multiple of the number of planes")
    if not 0 <= phasing < planes:
        raise HypotheticalError(f"Walker phasing {phasing} must be in 0..{planes - 1}")
    if total > 10_000:
        raise HypotheticalError(f"Walker pattern of {total} satellites is too large (max 10000)")
    per = total // planes
    out = []
    for j in range(planes):
        for k in range(per):
            idx = j * per + k
            out.append(from_classical(
                altitude_km=altitude_km,
                inclination_deg=inclination_deg,
                raan_deg=raan0_deg + 360.0 * j / planes,
                epoch=epoch,
                mean_anomaly_deg=360.0 * k / per + 360.0 * phasing * j / total,
                norad_id=first_id + idx,
                name=(f"{PREFIX}WALKER-{altitude_km:g}KM-{inclination_deg:.1f}-"
                      f"{total}/{planes}/{phasing}-P{j + 1}S{k + 1}"),
            ))
    return out


# --------------------------------------------------------------------------------------------
# Text specifications (command line)


def _numbers(text: str, minimum: int, maximum: int, usage: str) -> list[str]:
    parts = [p.strip() for p in text.split(":")]
    if not minimum <= len(parts) <= maximum or any(not p for p in parts):
        raise HypotheticalError(f"expected {usage}")
    return parts


def _float(value: str, what: str) -> float:
    try:
        out = float(value)
    except ValueError:
        raise HypotheticalError(f"{what} {value!r} is not a number") from None
    if not math.isfinite(out):
        raise HypotheticalError(f"{what} {value!r} is not a finite number")
    return out


def _int(value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise HypotheticalError(f"{what} {value!r} is not a whole number") from None


def _ltan(value: str) -> float:
    v = value.lower()
    if "h" in v:
        hh, _, mm = v.partition("h")
        return _int(hh, "LTAN hours") + (_int(mm, "LTAN minutes") if mm else 0) / 60.0
    return _float(value, "LTAN")


def parse_sso_spec(text: str, epoch: datetime, first_id: int) -> list[ElementSet]:
    """``ALT_KM:LTAN[:COUNT]``, LTAN in decimal hours (10.5) or ``10h30``."""
    usage = "ALT_KM:LTAN[:COUNT], e.g. 500:10.5 or 500:10h30:3"
    parts = _numbers(text, 2, 3, usage)
    count = _int(parts[2], "count") if len(parts) == 3 else 1
    return sso(_float(parts[0], "altitude"), _ltan(parts[1]), epoch, count=count,
               first_id=first_id)


def parse_walker_spec(text: str, epoch: datetime, first_id: int) -> list[ElementSet]:
    """``ALT_KM:INC_DEG|sso:T/P/F[:RAAN0_DEG]``."""
    usage = "ALT_KM:INC_DEG:T/P/F[:RAAN0_DEG], e.g. 550:53:24/3/1 (INC may be 'sso')"
    parts = _numbers(text, 3, 4, usage)
    alt = _float(parts[0], "altitude")
    inc = sso_inclination_deg(alt) if parts[1].lower() == "sso" else _float(parts[1],
                                                                           "inclination")
    tpf = parts[2].split("/")
    if len(tpf) != 3:
        raise HypotheticalError(f"expected {usage}")
    t, p, f = (_int(x, "Walker T/P/F value") for x in tpf)
    raan0 = _float(parts[3], "RAAN") if len(parts) == 4 else 0.0
    return walker(alt, inc, t, p, f, epoch, raan0_deg=raan0, first_id=first_id)


def parse_orbit_spec(text: str, epoch: datetime, first_id: int) -> list[ElementSet]:
    """``ALT_KM:INC_DEG:RAAN_DEG[:ECC[:ARGP_DEG[:MA_DEG]]]`` (mean elements at ``epoch``)."""
    usage = "ALT_KM:INC_DEG:RAAN_DEG[:ECC[:ARGP_DEG[:MA_DEG]]], e.g. 600:45:120"
    parts = _numbers(text, 3, 6, usage)
    names = ["altitude", "inclination", "RAAN", "eccentricity", "argument of perigee",
             "mean anomaly"]
    v = [_float(x, n) for x, n in zip(parts, names, strict=False)] + [0.0, 0.0, 0.0]
    return [from_classical(altitude_km=v[0], inclination_deg=v[1], raan_deg=v[2],
                           eccentricity=v[3], arg_perigee_deg=v[4], mean_anomaly_deg=v[5],
                           epoch=epoch, norad_id=first_id)]
