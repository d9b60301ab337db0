"""iCalendar (RFC 5545) output: one writer for every calendar overflight makes.

Events are all-UTC; text is escaped and lines are folded at 75 octets; each event's UID is
derived from its content (stable across runs, so a re-imported calendar updates, not
duplicates); DTSTAMP is when the calendar was made.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from overflight.access import Window

__all__ = ["Event", "calendar", "ics_escape", "ics_fold", "windows_ics"]


@dataclass(frozen=True, slots=True)
class Event:
    """One calendar event; ``key`` identifies it (its UID is a hash of it)."""

    key: str
    start: datetime
    end: datetime
    summary: str
    description: str = ""


def ics_escape(text: str) -> str:
    """RFC 5545 TEXT escaping: backslash, semicolon, comma and newlines."""
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def ics_fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 §3.1), never inside a UTF-8 character."""
    out: list[str] = []
    cur = ""
    size = 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > 75:
            out.append(cur)
            cur, size = " ", 1
        cur += ch
        size += n
    out.append(cur)
    return "\r\n".join(out)


def _stamp(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(events: Iterable[Event], *, name: str | None = None,
             made: datetime | None = None, extra: Sequence[str] = ()) -> str:
    """The events as one VCALENDAR (CRLF line ends). ``made``: DTSTAMP (default now);
    ``extra``: more event properties, e.g. ``TRANSP:TRANSPARENT``."""
    from overflight import __version__

    made_text = _stamp(made or datetime.now(UTC))
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:-//overflight//{__version__}//EN",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    if name:
        lines.append("X-WR-CALNAME:" + ics_escape(name))
    for e in events:
        uid = hashlib.sha256(e.key.encode("utf-8")).hexdigest()[:32]
        lines += ["BEGIN:VEVENT", f"UID:{uid}@overflight", f"DTSTAMP:{made_text}",
                  f"DTSTART:{_stamp(e.start)}", f"DTEND:{_stamp(e.end)}",
                  "SUMMARY:" + ics_escape(e.summary)]
        if e.description:
            lines.append("DESCRIPTION:" + ics_escape(e.description))
        lines += [*extra, "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(ics_fold(x) + "\r\n" for x in lines)


def windows_ics(windows: Iterable[Window], *, name: str | None = None,
                made: datetime | None = None) -> str:
    """One event per overflight window (satellite over site), for a phone calendar."""
    from overflight.times import format_utc

    events = (
        Event(key=f"window|{w.norad_id}|{w.site}|{format_utc(w.start, decimals=3)}",
              start=w.start, end=w.end,
              summary=f"{w.name or w.norad_id} over {w.site} (max {w.max_elevation_deg:.0f}°)",
              description=(f"NORAD {w.norad_id}; peak {format_utc(w.peak)}; "
                           f"min range {w.min_range_km:.0f} km; "
                           f"off-nadir {w.min_off_nadir_deg:.1f}°; "
                           f"Sun {w.sun_elevation_deg:.1f}°; {w.direction}"
                           + "".join(f"; {part}" for part in _imaging_parts(w))))
        for w in windows
    )
    return calendar(events, name=name, made=made)


def _imaging_parts(w: Window) -> list[str]:
    """What an imagery buyer needs of a window, where it is known: the sensor (kind, mode),
    radar incidence and look side, and the resolution at the peak (m)."""
    x = w.extra
    parts = []
    if x.get("sensor"):
        about = ", ".join(str(v) for v in (x.get("sensor_kind"), x.get("sensor_mode")) if v)
        parts.append(f"sensor {x['sensor']}" + (f" ({about})" if about else ""))
    if x.get("incidence_deg") is not None:
        parts.append(f"incidence {x['incidence_deg']:.1f}°"
                     + (f" looking {x['look_side']}" if x.get("look_side") else ""))
    if x.get("resolution_m") is not None:
        parts.append(f"resolution {x['resolution_m']:.2f} m")
    elif "resolution_m" not in x and w.gsd_m is not None:
        parts.append(f"GSD {w.gsd_m:.2f} m")
    return parts
