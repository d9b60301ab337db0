"""Words for claim results: the reasons (rendered from the findings), Markdown and HTML reports,
and the data that would settle the ``cannot-verify`` claims."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from overflight.claims.model import ClaimResult, DataNeeded, Finding, ManeuverCheck
from overflight.times import format_uncertainty

if TYPE_CHECKING:
    from overflight.claims.evidence import Evidence
    from overflight.freshness import StaleReport

__all__ = [
    "data_needed_summary",
    "describe_maneuver",
    "reasons",
    "render_html",
    "render_markdown",
    "stale_report",
]


def _iso(t: datetime | None, decimals: int = 0) -> str | None:
    from overflight.times import format_utc

    return None if t is None else format_utc(t, decimals=decimals)


# ---- wording helpers ---------------------------------------------------------------------


def _span(seconds: float) -> str:
    """``35 s``, ``4 min 10 s``, ``2 h 05 min``, ``3.2 days``."""
    s = abs(seconds)
    if s < 10:
        return f"{s:.1f} s"
    if s < 90:
        return f"{s:.0f} s"
    if s < 3600:
        m, sec = divmod(round(s), 60)
        return f"{m} min {sec:02d} s"
    if s < 86400 * 2:
        h, rem = divmod(round(s), 3600)
        return f"{h} h {rem // 60:02d} min"
    return f"{s / 86400:.1f} days"


def _rel(seconds: float, *, before: str = "before", after: str = "after") -> str:
    if abs(seconds) < 0.5:
        return "at the claimed time"
    return f"{_span(seconds)} {after if seconds > 0 else before} the claimed time"


def _days(age: float) -> str:
    return f"{abs(age):.2f} days {'before' if age >= 0 else 'after'} the claimed time"




def describe_maneuver(self: ManeuverCheck, *, lowers: bool = True) -> str:
    """One sentence on a maneuver check; ``lowers``: whether it lowers confidence."""
    span = f"between the element sets before ({_iso(self.earlier_epoch)}) and after " \
           f"({_iso(self.later_epoch)}) the claim"
    effect = ("so the satellite's position at the claimed time is less certain; confidence "
              "lowered." if lowers else
              "but the element set used is on the claim's side of the burn, so the "
              "claim's geometry does not depend on it.")
    if self.method == "data gap":
        days = (self.later_epoch - self.earlier_epoch).total_seconds() / 86400.0
        return (f"Maneuver: undetermined — data gap of {days:.1f} days {span}; no detector can "
                "bracket a burn across a gap that long (docs/history.md, \"Data gaps\").")
    if self.method == "maneuvers":
        if not self.detected:
            return (f"No maneuver detected {span} by the element-set history detector "
                    "(docs/history.md).")
        when = ""
        if self.estimated_time is not None:
            when = f", estimated at {_iso(self.estimated_time)}"
            if self.time_uncertainty_s is not None:
                when += f" {format_uncertainty(self.time_uncertainty_s)}"
        return (f"Maneuver: the element-set history detector (docs/history.md) finds a "
                f"burn {span} (Δv ≈ {self.delta_v_m_s or 0.0:.2f} m/s, semi-major axis "
                f"{self.delta_a_km:+.2f} km{when}), {effect}")
    if not self.detected:
        return (f"No maneuver detected {span}: once propagated to the same instant their "
                f"semi-major axes differ by {self.delta_a_km:+.3f} km (threshold "
                f"{self.threshold_km or 0.0:.2f} km).")
    return (f"Maneuver: the element sets {span[8:]} differ in semi-major axis by "
            f"{self.delta_a_km:+.2f} km once propagated to the same instant (threshold "
            f"{self.threshold_km or 0.0:.2f} km): the satellite likely maneuvered in between, "
            f"{effect}")


# ---- reasons -----------------------------------------------------------------------------


def reasons(findings: Sequence[Finding], ev: Evidence) -> list[str]:
    """One sentence per finding, in rule order (``ev``: names, epochs and settings to quote)."""
    return [_sentence(f, ev) for f in findings]


def _sentence(f: Finding, ev: Evidence) -> str:
    claim, opts, el = ev.claim, ev.options, ev.elements
    tgt = claim.target.name
    sat = el.label if el is not None else claim.satellite
    code = f.code
    if code == "satellite-unknown":
        return (f"Satellite {claim.satellite!r} is not in {ev.catalog_description}: there is "
                "nothing to check the claim against.")
    assert el is not None
    if code == "no-recent-elements":
        parts = []
        for es, word in ((el.before, "before"), (el.after, "after")):
            if es is None:
                parts.append(f"there is none {word} it")
            else:
                parts.append(f"the nearest {word} it has epoch {_iso(es.epoch)} "
                             f"({_days(es.age_days(claim.midpoint))})")
        return (f"No element set of {sat} within {opts.max_age_days:g} days of the claimed "
                f"time in {ev.catalog_description}: {parts[0]}; {parts[1]}. Propagating element "
                "sets that far would put the satellite tens to thousands of kilometres from "
                "where it was.")
    if code in ("imaging-ended", "imaging-ended-during"):
        day = f"{f.time:%Y-%m-%d}" if f.time is not None else "?"
        if code == "imaging-ended":
            return (f"The imaging mission of {sat} had ended by then: the sensor table "
                    f"records no imaging from {day} on (imaging_ended), so the claim is "
                    "inconsistent whatever the geometry.")
        return (f"The imaging mission of {sat} ended during the claimed interval (no imaging "
                f"from {day} on, per the sensor table's imaging_ended): only the part "
                "before then could hold the picture; confidence lowered.")
    es = el.elset
    assert es is not None
    if code == "elset-recent":
        nb = _iso(el.before.epoch) if el.before else "none"
        na = _iso(el.after.epoch) if el.after else "none"
        return (f"Element set used: epoch {_iso(es.epoch)} ({_days(f.elset_age_days or 0.0)}; "
                f"within the {opts.max_age_days:g}-day limit). Bracketing sets: before {nb}, "
                f"after {na}.")
    if code in ("elset-too-old", "elset-stale"):
        age = f.elset_age_days or 0.0
        growth = (f"{opts.along_track_km_per_day:g} km per day of age"
                  + (f" plus {opts.along_track_km_per_day2:g} km per day squared"
                     if opts.along_track_km_per_day2 else "") + "; docs/claims.md")
        uncertain = (f"its along-track position is uncertain by about "
                     f"{f.along_track_km or 0.0:,.0f} km, {_span(f.allowance_s or 0.0)} of "
                     f"timing ({growth})")
        if code == "elset-too-old":
            return (f"The nearest element set of {sat}, epoch {_iso(es.epoch)}, is "
                    f"{_days(age)}: {uncertain}, more than the claim's "
                    f"{f.tolerance_s or 0.0:g}-s tolerance, so it cannot say where the "
                    "satellite was within that time; element sets within "
                    f"{f.max_age_days or 0.0:g} days of the claimed time would settle it.")
        return (f"The element set is {abs(age):.1f} days from the claimed time (more than "
                f"{f.max_age_days or 0.0:g} days): {uncertain}, included in the tolerance "
                "below; confidence lowered.")
    if code == "propagation-failed":
        return (f"SGP4 cannot carry the element set of {sat} (epoch {_iso(es.epoch)}) to the "
                f"claimed time: {f.detail}. The satellite may have decayed or the element set "
                "is unusable.")
    sensor, tol = ev.sensor, ev.tolerance
    assert sensor is not None and tol is not None
    limit, limit_src = sensor.max_off_nadir_deg, sensor.max_off_nadir_source
    if code in ("in-reach", "out-of-reach"):
        total = tol.total_s
        tol_words = (f"±{total:.0f} s of the claimed time" if claim.time_end is None
                     else f"the claimed interval ±{total:.0f} s")
        tol_detail = (f"{tol.base_s:g} s tolerance + {tol.allowance_s:.1f} s for the element "
                      f"set's age: {tol.along_track_km:,.1f} km along-track after "
                      f"{tol.age_days:.2f} days")
        if code == "in-reach":
            return (f"Within {tol_words} ({tol_detail}) {sat} had {tgt} within reach: best "
                    f"{f.off_nadir_deg or 0.0:.1f}° off-nadir (limit {limit:g}°, {limit_src}), "
                    f"elevation {f.elevation_deg or 0.0:.1f}°, nadir point "
                    f"{f.ground_distance_km or 0.0:.0f} km from the target at {_iso(f.time)} "
                    f"({_rel(f.offset_s or 0.0)}).")
        return (f"Within {tol_words} ({tol_detail}) {sat} never had {tgt} within {limit:g}° "
                f"off-nadir ({limit_src}) above the horizon.")
    if code == "geometry-at-claim":
        if (f.elevation_deg or 0.0) < 0:
            view = "below the target's horizon"
        else:
            view = (f"{f.elevation_deg or 0.0:.1f}° above the target's horizon, with the "
                    f"target {f.off_nadir_deg or 0.0:.1f}° off-nadir")
        return (f"At the claimed time the nadir point was {f.ground_distance_km or 0.0:,.0f} km "
                f"from {tgt} and the satellite was {view}.")
    sight = ev.sight
    assert sight is not None
    if code == "nearest-opportunity":
        o = sight.nearest
        assert o is not None
        return (f"The nearest opportunity within ±{opts.search_hours:g} h was "
                f"{_rel(o.offset_s, before='earlier than', after='later than')} "
                f"({_iso(o.start)} to {_iso(o.end)}) at {o.off_nadir_deg:.1f}° off-nadir.")
    if code == "no-opportunity":
        return (f"There was no opportunity within {limit:g}° off-nadir within "
                f"±{opts.search_hours:g} h of the claimed time.")
    if code == "nearest-visible-pass":
        o = sight.nearest_visible
        assert o is not None
        return (f"The satellite was above the target's horizon "
                f"{_rel(o.offset_s, before='earlier than', after='later than')} "
                f"({_iso(o.start)} to {_iso(o.end)}), but no closer than about "
                f"{o.off_nadir_deg:.0f}° off-nadir (beyond the {limit:g}° limit).")
    if code == "closest-approach":
        return (f"Closest approach nearest the claim: {_iso(f.time)} ({_rel(f.offset_s or 0.0)}), "
                f"nadir point {f.ground_distance_km or 0.0:,.0f} km from {tgt}, "
                f"{f.off_nadir_deg or 0.0:.1f}° off-nadir, elevation "
                f"{f.elevation_deg or 0.0:.1f}°.")
    if f.rule == "lighting":
        return _lighting_sentence(f, ev, sat)
    if code == "sensor-assumed":
        return (f"No sensor is known for {sat}: assumed an optical imager with a {limit:g}° "
                "off-nadir reach (give sensor, max_off_nadir_deg and nadir_gsd_m in the claim).")
    if code == "gsd-estimate":
        gm = sensor.gsd
        assert gm is not None
        where = "at that geometry" if f.detail == "best" else "at the closest approach"
        return (f"Estimated GSD {f.gsd_m or 0.0:.2f} m {where} (nadir {gm.nadir_gsd_m:g} m at "
                f"{gm.ref_alt_km:.0f} km; {gm.source}).")
    if code in ("maneuver", "no-maneuver", "data-gap"):
        assert el.maneuver is not None
        return describe_maneuver(el.maneuver, lowers=f.lowers_confidence)
    if code == "elset-across-burn":
        after = f.detail == "after"
        return (f"The element set {'after' if after else 'before'} the claim is used although it "
                f"is farther in time, because the burn is estimated at {_iso(f.time)}, "
                f"{'before' if after else 'after'} the claimed time.")
    if code == "elements-disagree":
        other_ok = not sight.reachable
        return (f"The element set {f.detail} the claim (epoch {_iso(f.time)}) says the target "
                f"was {'' if other_ok else 'not '}within reach in that span: the two sets "
                "disagree; confidence lowered.")
    if code == "elements-agree":
        return (f"The element set {f.detail} the claim (epoch {_iso(f.time)}) agrees on whether "
                "the target was within reach.")
    raise ValueError(f"no wording for finding {code!r}")


def _lighting_sentence(f: Finding, ev: Evidence, sat: str) -> str:
    sensor, sight, opts = ev.sensor, ev.sight, ev.options
    assert sensor is not None and sight is not None
    tgt = ev.claim.target.name
    sun = f.sun_elevation_deg or 0.0
    light = {"best": sight.best, "claimed time": sight.at_claim,
             "closest approach": sight.closest}[f.detail or "best"]
    assert light is not None
    lit = "in sunlight" if light.satellite_sunlit else "in Earth's shadow"
    if f.detail != "best":
        lit += f" at the {f.detail}"
    if f.code == "radar-any-light":
        return (f"Sun {sun:.1f}° at the target; {sat} carries a radar (SAR) sensor "
                f"({sensor.kind_source}), which images day and night. The satellite was {lit}.")
    if f.code == "night":
        assumed = " (assumed: no sensor is known)" if sensor.kind_source == "assumed" else ""
        if sight.reachable:
            return (f"Night: the Sun was {sun:.1f}° at {tgt} (below {opts.night_sun_deg:g}°, "
                    f"darker than civil twilight). {sat} is an optical imager{assumed}; it "
                    "cannot take a usable picture of the ground in darkness, so the claim is "
                    "inconsistent although the geometry allowed it.")
        return (f"Night: besides, the Sun was {sun:.1f}° at {tgt}; an optical imager"
                f"{assumed} could not have taken a usable picture then anyway.")
    if f.code == "twilight":
        return (f"Twilight: the Sun was {sun:.1f}° at {tgt} (between {opts.night_sun_deg:g}° "
                f"and {opts.twilight_sun_deg:g}°): very little light for an optical image"
                + ("; confidence lowered." if f.lowers_confidence else "."))
    return (f"Daylight: the Sun was {sun:.1f}° above the horizon at {tgt}; "
            f"the satellite was {lit}.")


def data_needed_summary(results: Iterable[ClaimResult]) -> list[DataNeeded]:
    """What would settle the ``cannot-verify`` results: one date span per satellite."""
    spans: dict[str, DataNeeded] = {}
    for r in results:
        need = r.data_needed
        if need is None:
            continue
        old = spans.get(need.satellite)
        if old is None:
            spans[need.satellite] = need
        else:
            spans[need.satellite] = DataNeeded(need.satellite, min(old.start, need.start),
                                               max(old.end, need.end), need.max_age_days,
                                               old.claims + 1)
    return list(spans.values())


def stale_report(results: Iterable[ClaimResult], max_age_days: float | None = None
                 ) -> StaleReport:
    """The element sets used for ``results`` that are more than ``max_age_days`` (default
    :data:`overflight.freshness.STALE_AFTER_DAYS`) from their claimed times, one per
    satellite, oldest first: the warning ``passes`` and ``where`` give (its ``message``)."""
    from overflight.freshness import STALE_AFTER_DAYS, StaleElementSet, StaleReport

    limit = STALE_AFTER_DAYS if max_age_days is None else max_age_days
    worst: dict[int, StaleElementSet] = {}
    for r in results:
        es, c = r.elset, r.claim
        if es is None or c is None:
            continue
        age = max(abs(es.age_days(c.time)), abs(es.age_days(c.end)))
        old = worst.get(es.norad_id)
        if age > limit and (old is None or age > old.age_days):
            worst[es.norad_id] = StaleElementSet(es.norad_id, es.name, es.epoch, age)
    found = sorted(worst.values(), key=lambda s: (-s.age_days, s.norad_id))
    return StaleReport(limit, tuple(found))


# ---- reports -----------------------------------------------------------------------------


def _fmt(value: Any, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    return f"{value}{unit}"


def _summary_rows(results: Sequence[ClaimResult]) -> list[list[str]]:
    rows = []
    for r in results:
        d = r.to_dict()
        rows.append([
            r.claim_id,
            d["satellite_name"] or d["satellite"] or "—",
            d["target"] or "—",
            d["claimed_time"] or "—",
            r.verdict + (" (lowered confidence)" if r.confidence == "lowered" else ""),
            _fmt(d["time_offset_s"], " s", 0),
            _fmt(d["ground_distance_km"], " km", 0),
            _fmt(d["off_nadir_deg"], "°"),
            _fmt(d["sun_elevation_deg"], "°"),
            _fmt(d["elset_age_days"], " d", 2),
        ])
    return rows


_SUMMARY_HEAD = ["claim", "satellite", "target", "claimed (UTC)", "verdict",
                 "closest approach: offset", "ground distance", "off-nadir", "Sun",
                 "element-set age"]
SUMMARY_NOTE = ("Offset, ground distance, off-nadir and Sun are at the closest approach nearest "
                "the claimed time (offset: from the claimed time); the reasons give the Sun at "
                "the claimed time.")
"""Under every summary table (report and terminal): which instant its geometry is at."""


def _evidence(r: ClaimResult) -> list[tuple[str, str]]:
    from overflight.sites import provenance

    d = r.to_dict()
    c = r.claim
    rows: list[tuple[str, str]] = []
    if c is not None:
        rows += [
            ("satellite", f"{d['satellite_name'] or c.satellite} ({d['norad_id'] or '?'})"),
            ("target", f"{c.target.name} ({c.target.lat_deg:.4f}, {c.target.lon_deg:.4f})"),
            ("target coordinates", provenance(c.target)),
            ("claimed time", f"{c.time_text} = {d['claimed_time']}"
             + (f" … {d['claimed_time_end']}" if d["claimed_time_end"] else "")),
            ("source", c.source or "—"),
        ]
    for key in ("tolerance_s", "max_off_nadir_deg", "sensor_kind", "closest_approach_time",
                "time_offset_s", "ground_distance_km", "off_nadir_deg", "elevation_deg",
                "sun_elevation_deg", "satellite_sunlit", "gsd_m", "elset_epoch", "elset_age_days",
                "elset_before_epoch", "elset_after_epoch", "maneuver_between_elsets",
                "data_needed"):
        if d.get(key) is not None:
            label = f"{key} (at closest approach)" if key in _AT_CLOSEST else key
            rows.append((label, str(d[key])))
    return rows


# The evidence fields that are the geometry at the closest approach, not at the claimed time.
_AT_CLOSEST = frozenset({"ground_distance_km", "off_nadir_deg", "elevation_deg",
                         "sun_elevation_deg", "satellite_sunlit", "gsd_m"})


def render_markdown(
    results: Sequence[ClaimResult], *, maps: Mapping[str, str] | None = None,
    title: str = "Claim verification", preamble: str = "",
) -> str:
    """A Markdown report: summary table, then per claim the reasons, evidence and map (``maps``
    gives the image path per claim id)."""
    out = [f"# {title}", ""]
    if preamble:
        out += [preamble, ""]
    out.append("| " + " | ".join(_SUMMARY_HEAD) + " |")
    out.append("|" + "---|" * len(_SUMMARY_HEAD))
    for row in _summary_rows(results):
        out.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    out += ["", SUMMARY_NOTE, ""]
    needed = data_needed_summary(results)
    if needed:
        out += ["To settle the claims that cannot be verified:", ""]
        out += [f"- {n} ({n.claims} claim{'s' if n.claims > 1 else ''})" for n in needed]
        out.append("")
    for r in results:
        out += [f"## {r.claim_id}: {r.verdict}", ""]
        if r.confidence == "lowered":
            out += ["Confidence: lowered.", ""]
        out += [f"- {reason}" for reason in r.reasons]
        out.append("")
        ev = _evidence(r)
        if ev:
            out += ["| evidence | value |", "|---|---|"]
            out += ["| " + k + " | " + v.replace("|", "\\|") + " |" for k, v in ev]
            out.append("")
        if maps and r.claim_id in maps:
            out += [f"![ground track around the claimed time]({maps[r.claim_id]})", ""]
        if r.claim is not None and r.claim.notes:
            out += [f"Notes: {r.claim.notes}", ""]
    return "\n".join(out)


def render_html(
    results: Sequence[ClaimResult], *, maps: Mapping[str, str] | None = None,
    title: str = "Claim verification", preamble: str = "",
) -> str:
    """The same report as :func:`render_markdown`, as a self-contained HTML page."""
    from html import escape

    def table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
        h = "".join(f"<th>{escape(x)}</th>" for x in head)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(x)}</td>" for x in row) + "</tr>" for row in rows
        )
        return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"

    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{escape(title)}</title><style>body{{font-family:sans-serif;max-width:70em;"
        "margin:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:2px 6px;text-align:left}.consistent{color:#070}.inconsistent{color:#a00}"
        ".cannot-verify{color:#a60}.error{color:#a00}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
    ]
    if preamble:
        parts.append(f"<p>{escape(preamble)}</p>")
    parts.append(table(_SUMMARY_HEAD, _summary_rows(results)))
    parts.append(f"<p>{escape(SUMMARY_NOTE)}</p>")
    needed = data_needed_summary(results)
    if needed:
        parts.append("<p>To settle the claims that cannot be verified:</p><ul>"
                     + "".join(f"<li>{escape(str(n))} ({n.claims} claim(s))</li>" for n in needed)
                     + "</ul>")
    for r in results:
        parts.append(f"<h2>{escape(r.claim_id)}: <span class='{escape(r.verdict)}'>"
                     f"{escape(r.verdict)}</span></h2>")
        if r.confidence == "lowered":
            parts.append("<p>Confidence: lowered.</p>")
        parts.append("<ul>" + "".join(f"<li>{escape(x)}</li>" for x in r.reasons) + "</ul>")
        ev = _evidence(r)
        if ev:
            parts.append(table(["evidence", "value"], ev))
        if maps and r.claim_id in maps:
            parts.append(f"<p><img src='{escape(maps[r.claim_id])}' style='max-width:100%' "
                         "alt='ground track around the claimed time'></p>")
        if r.claim is not None and r.claim.notes:
            parts.append(f"<p>Notes: {escape(r.claim.notes)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
