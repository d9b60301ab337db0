"""Ground sites: the shipped named-site list, user site files (YAML, CSV, GeoJSON) and ``LAT,LON``.

Every loader reports bad input as :class:`SiteError`, one line naming file, line and field.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from overflight.errors import OverflightError
from overflight.geometry import Site

__all__ = [
    "NamedSite",
    "SiteError",
    "named_sites",
    "parse_coordinates",
    "provenance",
    "read_sites_file",
    "resolve_site",
    "resolve_sites",
    "site_note",
]


class SiteError(OverflightError):
    """A site that cannot be found or a malformed sites file (one-line message)."""


@dataclass(frozen=True, slots=True)
class NamedSite:
    """A site with its provenance: how precise the coordinates are and where they come from."""

    site: Site
    aliases: tuple[str, ...] = ()
    precision_m: float | None = None
    country: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description."""
        return {
            "name": self.site.name,
            "lat_deg": self.site.lat_deg,
            "lon_deg": self.site.lon_deg,
            "alt_m": self.site.alt_m,
            "precision_m": self.precision_m,
            "country": self.country,
            "aliases": list(self.aliases),
            "source": self.source,
        }


def provenance(site: Site) -> str:
    """Where ``site``'s coordinates come from and how precise they are, in a few words: the
    shipped named site's precision and source (``±3 km; Wikipedia, …``), else that they were
    given as coordinates."""
    named = next((n for n in named_sites() if n.site == site), None)
    if named is None:
        return "coordinates as given (not a shipped named site; no stated precision)"
    if named.precision_m is None:
        precision = "precision not stated"
    elif named.precision_m >= 1000.0:
        precision = f"±{named.precision_m / 1000.0:g} km"
    else:
        precision = f"±{named.precision_m:g} m"
    return f"{precision}; {named.source or 'no source given'}"


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower().replace("–", "-"))


_COORDS = re.compile(
    r"^\s*([-+]?\d+(?:\.\d+)?)\s*([NSns]?)\s*[, ]\s*([-+]?\d+(?:\.\d+)?)\s*([EWew]?)"
    r"(?:\s*[, ]\s*([-+]?\d+(?:\.\d+)?))?\s*$"
)


def parse_coordinates(text: str, name: str | None = None) -> Site | None:
    """``LAT,LON[,ALT_M]`` (degrees; ``39.04N,125.71E`` also accepted) or None if not coordinates.

    Raises SiteError for coordinates out of range.
    """
    m = _COORDS.match(text)
    if not m:
        return None
    lat = float(m.group(1)) * (-1.0 if m.group(2).upper() == "S" else 1.0)
    lon = float(m.group(3)) * (-1.0 if m.group(4).upper() == "W" else 1.0)
    alt = float(m.group(5)) if m.group(5) else 0.0
    _check_lat_lon(lat, lon, alt, where=f"site {text!r}")
    return Site(name=name or f"{lat:.4f},{lon:.4f}", lat_deg=lat, lon_deg=lon, alt_m=alt)


def _check_lat_lon(lat: float, lon: float, alt: float, *, where: str) -> None:
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise SiteError(f"{where}: latitude {lat} is outside -90..90")
    if not (math.isfinite(lon) and -180.0 <= lon <= 360.0):
        raise SiteError(f"{where}: longitude {lon} is outside -180..360")
    if not (math.isfinite(alt) and -500.0 <= alt <= 9000.0):
        raise SiteError(f"{where}: altitude {alt} m is outside -500..9000")


def _wrap_lon(lon: float) -> float:
    return lon - 360.0 if lon > 180.0 else lon


@functools.cache
def named_sites() -> tuple[NamedSite, ...]:
    """The named sites shipped with overflight (``data/sites.yaml``)."""
    text = resources.files("overflight").joinpath("data/sites.yaml").read_text(encoding="utf-8")
    return tuple(_named_from_yaml(text, "sites.yaml"))


def _named_from_yaml(text: str, source: str) -> list[NamedSite]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", exc)
        raise SiteError(f"{source}{line}: not valid YAML ({problem})") from None
    entries = doc.get("sites") if isinstance(doc, Mapping) else doc
    if not isinstance(entries, list):
        raise SiteError(f"{source}: expected a list of sites (or a mapping with key 'sites')")
    out: list[NamedSite] = []
    for index, entry in enumerate(entries, start=1):
        where = f"{source}: site {index}"
        if not isinstance(entry, Mapping):
            raise SiteError(f"{where}: expected a mapping with name, lat_deg, lon_deg")
        name = str(entry.get("name") or "").strip()
        if not name:
            raise SiteError(f"{where}: field 'name' is missing")
        where = f"{source}: site {index} ({name})"
        lat = _number(entry, ("lat_deg", "lat", "latitude"), where, required=True)
        lon = _number(entry, ("lon_deg", "lon", "longitude"), where, required=True)
        alt = _number(entry, ("alt_m", "alt", "altitude_m"), where, required=False)
        _check_lat_lon(lat, lon, alt, where=where)
        aliases = entry.get("aliases") or []
        if not isinstance(aliases, list):
            raise SiteError(f"{where}: field 'aliases' must be a list")
        precision = entry.get("precision_m")
        out.append(
            NamedSite(
                site=Site(name=name, lat_deg=lat, lon_deg=_wrap_lon(lon), alt_m=alt),
                aliases=tuple(str(a) for a in aliases),
                precision_m=float(precision) if precision is not None else None,
                country=str(entry.get("country") or ""),
                source=str(entry.get("source") or ""),
            )
        )
    return out


def _number(entry: Mapping[str, Any], keys: Sequence[str], where: str, *, required: bool) -> float:
    for key in keys:
        if key in entry and entry[key] is not None and str(entry[key]).strip() != "":
            try:
                return float(entry[key])
            except (TypeError, ValueError):
                raise SiteError(f"{where}: field '{key}' is not a number: {entry[key]!r}") from None
    if required:
        raise SiteError(f"{where}: field '{keys[0]}' is missing")
    return 0.0


def read_sites_file(path: str | Path) -> list[NamedSite]:
    """Sites from YAML (as ``sites.yaml``), CSV (``name,lat_deg,lon_deg[,alt_m]``) or GeoJSON."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SiteError(f"{p}: no such sites file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SiteError(f"{p}: cannot read sites file ({exc})") from None
    suffix = p.suffix.lower()
    stripped = text.lstrip()
    if suffix in (".geojson", ".json") or stripped.startswith("{"):
        sites = _from_geojson(text, p.name)
    elif suffix == ".csv":
        sites = _from_csv(text, p.name)
    else:
        sites = _named_from_yaml(text, p.name)
    if not sites:
        raise SiteError(f"{p.name}: no sites in file")
    return sites


def _from_csv(text: str, source: str) -> list[NamedSite]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        raise SiteError(f"{source}:1: empty CSV; expected a header name,lat_deg,lon_deg[,alt_m]")
    header = {h.strip().lower(): h for h in reader.fieldnames if h}

    def column(*names: str) -> str | None:
        for n in names:
            if n in header:
                return header[n]
        return None

    lat_col = column("lat_deg", "lat", "latitude")
    lon_col = column("lon_deg", "lon", "lng", "longitude")
    name_col = column("name", "site")
    alt_col = column("alt_m", "alt", "altitude_m", "elevation_m")
    if lat_col is None or lon_col is None:
        raise SiteError(f"{source}:1: header needs lat_deg and lon_deg columns")
    out: list[NamedSite] = []
    for row in reader:
        line = reader.line_num
        where = f"{source}:{line}"
        values: dict[str, Any] = {
            "lat_deg": row.get(lat_col),
            "lon_deg": row.get(lon_col),
            "alt_m": row.get(alt_col) if alt_col else None,
        }
        lat = _number(values, ("lat_deg",), where, required=True)
        lon = _number(values, ("lon_deg",), where, required=True)
        alt = _number(values, ("alt_m",), where, required=False)
        _check_lat_lon(lat, lon, alt, where=where)
        name = (row.get(name_col) or "").strip() if name_col else ""
        out.append(
            NamedSite(Site(name=name or f"{lat:.4f},{lon:.4f}", lat_deg=lat,
                           lon_deg=_wrap_lon(lon), alt_m=alt))
        )
    return out


def _from_geojson(text: str, source: str) -> list[NamedSite]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SiteError(f"{source}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    feats: Iterable[Any]
    if isinstance(doc, Mapping) and doc.get("type") == "FeatureCollection":
        feats = doc.get("features") or []
    elif isinstance(doc, Mapping) and doc.get("type") == "Feature":
        feats = [doc]
    else:
        raise SiteError(f"{source}: expected a GeoJSON FeatureCollection of Points")
    out: list[NamedSite] = []
    for index, feat in enumerate(feats, start=1):
        where = f"{source}: feature {index}"
        geom = feat.get("geometry") if isinstance(feat, Mapping) else None
        if not isinstance(geom, Mapping) or geom.get("type") != "Point":
            raise SiteError(f"{where}: geometry must be a Point")
        coords = geom.get("coordinates")
        if not isinstance(coords, list) or len(coords) < 2:
            raise SiteError(f"{where}: Point coordinates must be [lon, lat(, alt_m)]")
        try:
            lon, lat = float(coords[0]), float(coords[1])
            alt = float(coords[2]) if len(coords) > 2 else 0.0
        except (TypeError, ValueError):
            raise SiteError(f"{where}: coordinates are not numbers") from None
        _check_lat_lon(lat, lon, alt, where=where)
        props = feat.get("properties") or {}
        name = str(props.get("name") or f"{lat:.4f},{lon:.4f}")
        out.append(NamedSite(Site(name=name, lat_deg=lat, lon_deg=_wrap_lon(lon), alt_m=alt)))
    return out


def resolve_site(text: str, extra: Sequence[NamedSite] = ()) -> Site:
    """A site from a name (shipped list or ``extra``; case/punctuation ignored) or coordinates."""
    coords = parse_coordinates(text)
    if coords is not None:
        return coords
    found = _match(text, extra)
    if found is not None:
        return found[0]
    key = _norm(text)
    names = [e.site.name for e in [*extra, *named_sites()]]
    prefix = [n for n in names if _norm(n).startswith(key)] if key else []
    close = prefix or difflib.get_close_matches(text, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    from overflight.areas import named_areas

    area = next((a.name for a in named_areas().values()
                 if key in (_norm(n) for n in (a.name, *a.aliases))), None)
    if area is not None:
        raise SiteError(f"{text!r} is not a point site but the area target {area!r}: ask for "
                        f"it as an area (area={text!r})")
    raise SiteError(
        f"unknown site {text!r}{hint} (give a named site, LAT,LON[,ALT_M] or a sites "
        "file: site_files)"
    )


def _match(text: str, extra: Sequence[NamedSite]) -> tuple[Site, str | None] | None:
    """The named site ``text`` resolves to and how (None: its own name; "alias", "prefix"),
    as :func:`resolve_site` finds it; None when it is not a name it resolves."""
    key = _norm(text)
    candidates = [*extra, *named_sites()]
    for entry in candidates:
        if key == _norm(entry.site.name):
            return entry.site, None
        if key in (_norm(a) for a in entry.aliases):
            return entry.site, "alias"
    prefix = [e for e in candidates if key and _norm(e.site.name).startswith(key)]
    if len(prefix) == 1:
        return prefix[0].site, "prefix"
    return None


def site_note(text: str, extra: Sequence[NamedSite] = (), *, areas: bool = True,
              area_option: str | None = None) -> str | None:
    """One line telling what a site name given by a user was taken as, when that may not be
    what was meant: it resolved through an alias or a prefix (naming the point site), or
    (``areas``) an area target (:func:`overflight.areas.named_areas`) has that name too
    (``area_option``: how a frontend asks for the area instead, e.g. ``--area``). None for
    coordinates, a site's own name that is no area's, and names that do not resolve (their
    error says so). ``extra``: user sites, as for :func:`resolve_site`.
    """
    if parse_coordinates(text) is not None:
        return None
    found = _match(text, extra)
    if found is None:
        return None
    site, how = found
    from overflight.areas import named_areas

    key = _norm(text)
    area = next((a.name for a in named_areas().values()
                 if key in (_norm(n) for n in (a.name, *a.aliases))), None) if areas else None
    if how is None and area is None:
        return None
    if how is None:
        taken = f'"{text}" is taken as the point site of that name'
    else:
        why = "an alias" if how == "alias" else "a prefix of its name"
        taken = f'"{text}" is taken as the point site "{site.name}" ({why})'
    if area is None:
        return taken
    ask = f': for the area use {area_option} "{area}"' if area_option else ""
    return f'{taken}; the area target "{area}" goes by that name too{ask}'


def resolve_sites(
    names: Sequence[str], files: Sequence[str | Path] = (), *, all_named: bool = False
) -> list[Site]:
    """Sites from names/coordinates plus every site in ``files`` (and all named ones if asked)."""
    extra: list[NamedSite] = []
    for f in files:
        extra.extend(read_sites_file(f))
    sites: list[Site] = [e.site for e in extra]
    if all_named:
        sites.extend(e.site for e in named_sites())
    sites.extend(resolve_site(n, extra) for n in names)
    seen: set[tuple[str, float, float]] = set()
    unique: list[Site] = []
    for s in sites:
        k = (s.name, s.lat_deg, s.lon_deg)
        if k not in seen:
            seen.add(k)
            unique.append(s)
    return unique
