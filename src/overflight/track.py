"""Ground tracks: a satellite's nadir point, altitude, speed and sunlight over time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from overflight.elements import ElementSet
from overflight.freshness import REFUSE_AFTER_DAYS

__all__ = ["check_track_age", "track_rows"]


def check_track_age(elset: ElementSet, start: datetime, end: datetime, *,
                    max_age_days: float = REFUSE_AFTER_DAYS) -> None:
    """Refuse (:class:`~overflight.freshness.StaleElementsError`, one line) positions between
    ``start`` and ``end`` when some of them are more than ``max_age_days`` (checked:
    :func:`~overflight.freshness.check_max_age_days`) from ``elset``'s epoch: SGP4's error
    grows by kilometres per day of age. Hypothetical satellites are never refused."""
    import math

    from overflight.freshness import (
        MAX_AGE_DAYS,
        StaleElementsError,
        all_stale_error,
        check_max_age_days,
    )
    from overflight.hypothetical import is_hypothetical
    from overflight.times import format_utc

    limit = check_max_age_days(max_age_days)
    worst = max(abs(elset.age_days(start)), abs(elset.age_days(end)))
    if worst <= limit or is_hypothetical(elset):
        return
    gap = max(elset.age_days(start), -elset.age_days(end), 0.0)  # epoch to the nearer end
    if gap > limit:  # no time of the request is near enough
        raise all_stale_error([elset], start, end, max_age_days=limit)
    from datetime import timedelta

    lo = max(start, elset.epoch - timedelta(days=limit))
    hi = min(end, elset.epoch + timedelta(days=limit))
    need = math.ceil(worst)
    suggest = need if need <= MAX_AGE_DAYS else None
    raise StaleElementsError(
        f"the element set of {elset.name} ({elset.norad_id}) is more than {limit:g} days from "
        f"part of the requested times (epoch {elset.epoch:%Y-%m-%d}, {worst:.1f} days from "
        f"the farther end); keep to {format_utc(lo)}..{format_utc(hi)}"
        + (f" or use max_age_days {suggest}" if suggest is not None else ""),
        max_age_days=limit, nearest_epoch=elset.epoch, distance_days=0.0,
        suggested_max_age_days=suggest)


def track_rows(elset: ElementSet, times: Any, *,
               max_age_days: float | None = REFUSE_AFTER_DAYS) -> list[dict[str, Any]]:
    """One row per time (UTC datetimes or datetime64): ``time`` (ISO Z), ``lat_deg``,
    ``lon_deg`` (geodetic nadir, WGS-84), ``alt_km``, ``speed_km_s`` (Earth-fixed), ``sunlit``
    and ``error`` (SGP4's message where propagation failed; the other values are then None).
    Times more than ``max_age_days`` from the element set's epoch are refused
    (:func:`check_track_age`); None: not checked, for a caller that has judged the element
    set's age itself (a claim's map).
    """
    import numpy as np

    from overflight.propagation import error_message, propagate
    from overflight.sun import is_sunlit, sun_itrs_km
    from overflight.times import datetime64_to_utc, format_utc, to_datetime64

    if max_age_days is not None:
        t64 = to_datetime64(times)
        if t64.size:
            check_track_age(elset, datetime64_to_utc(t64.min()), datetime64_to_utc(t64.max()),
                            max_age_days=max_age_days)
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
