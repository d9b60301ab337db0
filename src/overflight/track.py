"""Ground tracks: a satellite's nadir point, altitude, speed and sunlight over time."""

from __future__ import annotations

from typing import Any

from overflight.elements import ElementSet

__all__ = ["track_rows"]


def track_rows(elset: ElementSet, times: Any) -> list[dict[str, Any]]:
    """One row per time (UTC datetimes or datetime64): ``time`` (ISO Z), ``lat_deg``,
    ``lon_deg`` (geodetic nadir, WGS-84), ``alt_km``, ``speed_km_s`` (Earth-fixed), ``sunlit``
    and ``error`` (SGP4's message where propagation failed; the other values are then None).
    """
    import numpy as np

    from overflight.propagation import error_message, propagate
    from overflight.sun import is_sunlit, sun_itrs_km
    from overflight.times import datetime64_to_utc, format_utc

    eph = propagate([elset], times, frame="itrs", workers=1)
    lat, lon, alt = eph.geodetic()
    lit = is_sunlit(eph.position_km[0], sun_itrs_km(eph.times))
    speed = np.linalg.norm(eph.velocity_km_s[0], axis=-1)
    rows: list[dict[str, Any]] = []
    for i, t in enumerate(eph.times):
        err = int(eph.error[0, i])
        rows.append({
            "time": format_utc(datetime64_to_utc(t)),
            "lat_deg": None if err else round(float(lat[0, i]), 4),
            "lon_deg": None if err else round(float(lon[0, i]), 4),
            "alt_km": None if err else round(float(alt[0, i]), 3),
            "speed_km_s": None if err else round(float(speed[i]), 4),
            "sunlit": None if err else bool(lit[i]),
            "error": error_message(err) if err else None,
        })
    return rows
