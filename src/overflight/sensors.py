"""Imaging sensors: nadir ground sample distance and typical look limits of known satellites.

The shipped table (``data/sensors.yaml``) gives public operator figures with their sources;
users override or extend it with a file of the same form.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from overflight.errors import OverflightError

__all__ = ["Sensor", "SensorError", "load_sensors", "shipped_sensors"]


class SensorError(OverflightError):
    """A malformed sensors file (one-line message)."""


@dataclass(frozen=True, slots=True)
class Sensor:
    """``nadir_gsd_m`` at ``ref_alt_km``; ``max_off_nadir_deg`` typical collection limit."""

    norad_id: int
    name: str
    nadir_gsd_m: float
    ref_alt_km: float
    max_off_nadir_deg: float | None = None
    kind: str = "optical"
    source: str = ""

    def gsd_m(self, range_km: float, incidence_deg: float) -> float | None:
        """Geometric-mean GSD (m) at a slant range and incidence (see ``overflight.gsd``)."""
        from overflight.gsd import gsd

        value = float(gsd(self.nadir_gsd_m, self.ref_alt_km, range_km, incidence_deg).mean_m)
        return None if value != value else value  # NaN: not in view

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "norad_id": self.norad_id,
            "name": self.name,
            "nadir_gsd_m": self.nadir_gsd_m,
            "ref_alt_km": self.ref_alt_km,
            "max_off_nadir_deg": self.max_off_nadir_deg,
            "kind": self.kind,
            "source": self.source,
        }


def _parse(text: str, source: str) -> dict[int, Sensor]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SensorError(f"{source}: not valid YAML ({exc})") from None
    rows = doc.get("sensors") if isinstance(doc, Mapping) else doc
    if not isinstance(rows, list):
        raise SensorError(f"{source}: expected a list under 'sensors'")
    out: dict[int, Sensor] = {}
    for i, row in enumerate(rows, start=1):
        where = f"{source}: sensor {i}"
        if not isinstance(row, Mapping):
            raise SensorError(f"{where}: expected a mapping")
        try:
            sensor = Sensor(
                norad_id=int(row["norad_id"]),
                name=str(row.get("name", "")),
                nadir_gsd_m=float(row["nadir_gsd_m"]),
                ref_alt_km=float(row["ref_alt_km"]),
                max_off_nadir_deg=(
                    None if row.get("max_off_nadir_deg") is None
                    else float(row["max_off_nadir_deg"])
                ),
                kind=str(row.get("kind", "optical")),
                source=str(row.get("source", "")),
            )
        except KeyError as exc:
            raise SensorError(f"{where}: field {exc.args[0]!r} is missing") from None
        except (TypeError, ValueError) as exc:
            raise SensorError(f"{where}: {exc}") from None
        if sensor.nadir_gsd_m <= 0 or sensor.ref_alt_km <= 0:
            raise SensorError(f"{where}: nadir_gsd_m and ref_alt_km must be positive")
        out[sensor.norad_id] = sensor
    return out


@functools.cache
def shipped_sensors() -> dict[int, Sensor]:
    """The sensor table shipped with overflight, by NORAD id."""
    text = resources.files("overflight").joinpath("data/sensors.yaml").read_text("utf-8")
    return _parse(text, "sensors.yaml")


def load_sensors(path: str | Path | None = None) -> dict[int, Sensor]:
    """Shipped sensors, overridden/extended by the file at ``path`` if given."""
    table = dict(shipped_sensors())
    if path is not None:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise SensorError(f"{p}: cannot read sensors file ({exc.strerror})") from None
        table.update(_parse(text, p.name))
    return table
