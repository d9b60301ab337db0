"""Windows with their footprints for maps: GeoJSON (RFC 7946), KML 2.2 (Google Earth) and
CZML (Cesium).

Each writer takes the targets (:class:`~overflight.areas.Area` and
:class:`~overflight.geometry.Site` objects, or one of them), the windows and one
:class:`~overflight.footprints.Footprint` per window (same order), and returns the document.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from overflight.errors import OverflightError

if TYPE_CHECKING:
    from overflight.access import Window
    from overflight.areas import Area
    from overflight.footprints import Footprint
    from overflight.geometry import Site

__all__ = [
    "GEO_FORMATS",
    "KML_NAMESPACE",
    "czml_document",
    "geo_document",
    "geojson_document",
    "kml_document",
    "window_properties",
]

GEO_FORMATS = ("geojson", "kml", "czml")
"""The map formats :func:`geo_document` writes."""
KML_NAMESPACE = "http://www.opengis.net/kml/2.2"


def _iso(t: Any) -> str:
    from overflight.times import format_utc

    return format_utc(t, decimals=3)


def _pairs(windows: Sequence[Window], footprints: Sequence[Footprint]) -> None:
    if len(windows) != len(footprints):
        raise OverflightError(f"footprints: {len(footprints)} footprints for {len(windows)} "
                              "windows; give one per window")


def window_properties(w: Window) -> dict[str, Any]:
    """The properties a map shows for a window: norad_id, name, site, start, end, peak (ISO
    8601 Z), gsd_m, max_elevation_deg, min_off_nadir_deg, area_fraction (None for a site)."""
    fraction = getattr(w, "area_fraction", None)
    return {
        "norad_id": w.norad_id, "name": w.name, "site": w.site,
        "start": _iso(w.start), "end": _iso(w.end), "peak": _iso(w.peak),
        "gsd_m": None if w.gsd_m is None else round(w.gsd_m, 3),
        "max_elevation_deg": round(w.max_elevation_deg, 3),
        "min_off_nadir_deg": round(w.min_off_nadir_deg, 3),
        "area_fraction": None if fraction is None else round(float(fraction), 4),
    }


def _targets(targets: Any) -> list[Any]:
    from overflight.areas import Area
    from overflight.geometry import Site

    return [targets] if isinstance(targets, Area | Site) else list(targets)


def _title(targets: list[Any]) -> str:
    return f"overflight windows over {', '.join(t.name for t in targets)}"


def _target_geometry(target: Area | Site) -> dict[str, Any]:
    from overflight.areas import Area

    if isinstance(target, Area):
        return target.geometry()
    return {"type": "Point", "coordinates": [target.lon_deg, target.lat_deg]}


def _target_properties(target: Area | Site) -> dict[str, Any]:
    from overflight.areas import Area

    if isinstance(target, Area):
        return {"role": "target", "name": target.name, "title": target.title or target.name,
                "source": target.source, "precision": target.precision}
    return {"role": "target", "name": target.name}


def geojson_document(targets: Area | Site | Sequence[Area | Site], windows: Sequence[Window],
                     footprints: Sequence[Footprint]) -> dict[str, Any]:
    """A FeatureCollection: the targets (``role`` "target"), then one Feature per window (its
    footprint Polygon and :func:`window_properties`, ``role`` "footprint")."""
    _pairs(windows, footprints)
    feats: list[dict[str, Any]] = [{"type": "Feature", "properties": _target_properties(t),
                                    "geometry": _target_geometry(t)} for t in _targets(targets)]
    for w, fp in zip(windows, footprints, strict=True):
        feats.append({"type": "Feature",
                      "properties": {"role": "footprint", **window_properties(w),
                                     "max_off_nadir_deg": round(fp.max_off_nadir_deg, 3)},
                      "geometry": fp.geometry()})
    return {"type": "FeatureCollection", "features": feats}


def _description(w: Window) -> str:
    p = window_properties(w)
    parts = [f"NORAD {p['norad_id']} over {p['site']}", f"start {p['start']}",
             f"peak {p['peak']}", f"end {p['end']}",
             f"max elevation {p['max_elevation_deg']:.1f}°",
             f"min off-nadir {p['min_off_nadir_deg']:.1f}°"]
    if p["gsd_m"] is not None:
        parts.append(f"GSD {p['gsd_m']:.2f} m")
    if p["area_fraction"] is not None:
        parts.append(f"area in reach {100 * p['area_fraction']:.0f} %")
    return "; ".join(parts)


def kml_document(targets: Area | Site | Sequence[Area | Site], windows: Sequence[Window],
                 footprints: Sequence[Footprint]) -> str:
    """KML 2.2 text: a Document with a Placemark per target and one Placemark per window
    (name, description with times and GSD, TimeSpan begin/end, the footprint Polygon)."""
    import xml.etree.ElementTree as ET

    _pairs(windows, footprints)
    ET.register_namespace("", KML_NAMESPACE)

    def el(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
        e = ET.SubElement(parent, f"{{{KML_NAMESPACE}}}{tag}")
        if text is not None:
            e.text = text
        return e

    def coords(ring: Sequence[Sequence[float]]) -> str:
        return " ".join(f"{x:.6f},{y:.6f},0" for x, y in ring)

    def polygon(parent: ET.Element, rings: Sequence[Sequence[Sequence[float]]]) -> None:
        poly = el(parent, "Polygon")
        el(poly, "tessellate", "1")
        lr = el(el(poly, "outerBoundaryIs"), "LinearRing")
        el(lr, "coordinates", coords(rings[0]))
        for hole in rings[1:]:
            el(el(el(poly, "innerBoundaryIs"), "LinearRing"), "coordinates", coords(hole))

    root = ET.Element(f"{{{KML_NAMESPACE}}}kml")
    doc = el(root, "Document")
    el(doc, "name", _title(_targets(targets)))
    style = el(doc, "Style")
    style.set("id", "footprint")
    el(el(style, "LineStyle"), "color", "ff0088ff")
    el(el(style, "PolyStyle"), "color", "400088ff")
    tstyle = el(doc, "Style")
    tstyle.set("id", "target")
    el(el(tstyle, "LineStyle"), "color", "ff0000ff")
    el(el(tstyle, "PolyStyle"), "color", "800000ff")
    for target in _targets(targets):
        mark = el(doc, "Placemark")
        el(mark, "name", target.name)
        el(mark, "description", _target_properties(target).get("source", "") or target.name)
        el(mark, "styleUrl", "#target")
        geom = _target_geometry(target)
        if geom["type"] == "Point":
            x, y = geom["coordinates"]
            el(el(mark, "Point"), "coordinates", f"{x:.6f},{y:.6f},0")
        else:
            multi = el(mark, "MultiGeometry")
            for rings in geom["coordinates"]:
                polygon(multi, rings)
    for w, fp in zip(windows, footprints, strict=True):
        p = window_properties(w)
        pm = el(doc, "Placemark")
        el(pm, "name", f"{w.name} ({w.norad_id}) {p['start']}")
        el(pm, "description", _description(w))
        span = el(pm, "TimeSpan")
        el(span, "begin", p["start"])
        el(span, "end", p["end"])
        el(pm, "styleUrl", "#footprint")
        polygon(pm, [fp.ring()])
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _degrees(ring: Sequence[Sequence[float]]) -> list[float]:
    out: list[float] = []
    for x, y in ring[:-1]:  # CZML polygons close themselves
        out += [x, y, 0.0]
    return out


def czml_document(targets: Area | Site | Sequence[Area | Site], windows: Sequence[Window],
                  footprints: Sequence[Footprint]) -> list[dict[str, Any]]:
    """CZML packets: the document (clock over the windows), the targets, and one packet per
    window with its availability interval and footprint polygon (cartographic degrees)."""
    _pairs(windows, footprints)
    tlist = _targets(targets)
    packets: list[dict[str, Any]] = [{"id": "document", "name": _title(tlist),
                                      "version": "1.0"}]
    if windows:
        first = _iso(min(w.start for w in windows))
        last = _iso(max(w.end for w in windows))
        packets[0]["clock"] = {"interval": f"{first}/{last}", "currentTime": first,
                               "multiplier": 10}
    for k, target in enumerate(tlist):
        geom = _target_geometry(target)
        tpacket: dict[str, Any] = {"id": f"target-{k}", "name": target.name,
                                   "description": _target_properties(target).get("source", "")}
        if geom["type"] == "Point":
            tpacket["position"] = {"cartographicDegrees": [*geom["coordinates"], 0.0]}
            tpacket["point"] = {"pixelSize": 8, "color": {"rgba": [255, 0, 0, 255]}}
            packets.append(tpacket)
            continue
        for i, rings in enumerate(geom["coordinates"]):
            packets.append({**tpacket, "id": f"target-{k}-{i}", "polygon": {
                "positions": {"cartographicDegrees": _degrees(rings[0])},
                "material": {"solidColor": {"color": {"rgba": [255, 0, 0, 128]}}},
                "outline": True, "outlineColor": {"rgba": [255, 0, 0, 255]}}})
    for i, (w, fp) in enumerate(zip(windows, footprints, strict=True)):
        p = window_properties(w)
        packets.append({
            "id": f"window-{i}",
            "name": f"{w.name} ({w.norad_id})",
            "description": _description(w),
            "availability": f"{p['start']}/{p['end']}",
            "properties": p,
            "polygon": {
                "positions": {"cartographicDegrees": _degrees(fp.ring())},
                "material": {"solidColor": {"color": {"rgba": [255, 136, 0, 64]}}},
                "outline": True, "outlineColor": {"rgba": [255, 136, 0, 255]},
            },
        })
    return packets


def geo_document(fmt: str, targets: Area | Site | Sequence[Area | Site],
                 windows: Sequence[Window], footprints: Sequence[Footprint]) -> str:
    """The document in ``fmt`` (``geojson``, ``kml`` or ``czml``) as text."""
    if fmt == "geojson":
        return json.dumps(geojson_document(targets, windows, footprints), ensure_ascii=False,
                          indent=1) + "\n"
    if fmt == "kml":
        return kml_document(targets, windows, footprints)
    if fmt == "czml":
        return json.dumps(czml_document(targets, windows, footprints), ensure_ascii=False,
                          indent=1) + "\n"
    raise OverflightError(f"format must be one of {', '.join(GEO_FORMATS)}, not {fmt!r}")
