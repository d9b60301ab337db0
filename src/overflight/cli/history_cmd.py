"""`overflight history`, `overflight maneuvers`, `overflight decay`: orbit forensics."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from overflight.cli._common import (
    DbOption,
    ObjectTypeOption,
    OutputOption,
    OwnerOption,
    UserError,
    check_job,
    element_cell,
    emit,
    output_to,
    warn,
    wrote,
)

if TYPE_CHECKING:
    from overflight.elements import ElementSet
    from overflight.history import OrbitState
    from overflight.maneuvers import DecayAssessment, DecayEstimate, DetectionResult, Maneuver


class OutFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


HISTORY_COLUMNS = ["epoch", "a km", "perigee km", "apogee km", "e", "incl°", "raan°", "argp°",
                   "n rev/d", "ndot rev/d²", "bstar", "ltan h"]
MANEUVER_COLUMNS = ["satellite", "before", "after", "estimated (±)", "where (lat°, lon°)",
                    "Δa km", "Δperigee km", "Δapogee km", "Δincl°", "Δv m/s", "kind"]
MANEUVER_CSV = ["norad_id", "name", "before_epoch", "after_epoch", "estimated_time",
                "time_uncertainty_s", "delta_a_km", "delta_perigee_km", "delta_apogee_km",
                "delta_inclination_deg", "delta_v_m_s", "kind", "delta_v_tangential_m_s",
                "delta_v_eccentricity_m_s", "delta_v_plane_m_s", "significance", "closest_km",
                "confirmed", "lat_deg", "lon_deg", "place", "object_type", "event"]
DECAY_COLUMNS = ["norad_id", "name", "epoch", "perigee_alt_km", "decay_rate_m_day",
                 "decay_rate_sigma_m_day", "estimated_date", "uncertainty_days", "label"]
DECAY_TABLE_COLUMNS = ["norad_id", "name", "epoch", "perigee km", "decay m/day (±1σ)",
                       "estimated date", "± days", "label"]


# ---- loading --------------------------------------------------------------------------------
def _read_history_file(path: Path) -> list[ElementSet]:
    from overflight.catalog.formats import read_path

    if not path.exists():
        raise UserError(f"{path}: no such file")
    result = read_path(path)
    if not result.records:
        first = f"; first problem: {result.errors[0]}" if result.errors else ""
        raise UserError(f"{path.name}: no valid element sets{first}")
    if result.errors:
        warn(f"{path.name}: {len(result.errors)} invalid records skipped; first: "
             f"{result.errors[0]}")
    return result.records


def _in_interval(
    records: Sequence[ElementSet], since: datetime | None, until: datetime | None
) -> list[ElementSet]:
    return [es for es in records
            if (since is None or es.epoch >= since) and (until is None or es.epoch <= until)]


def _match_file_object(records: Sequence[ElementSet], ref: str) -> int:
    """NORAD id of the object in a file that ``ref`` names (id or case-insensitive name)."""
    ids = {es.norad_id for es in records}
    text = ref.strip()
    if text.isdigit():
        if int(text) in ids:
            return int(text)
        raise UserError(f"NORAD {text} is not in the history file")
    names: dict[int, str] = {es.norad_id: es.name for es in records}
    exact = {n for n, nm in names.items() if nm.strip().upper() == text.upper()}
    found = exact or {n for n, nm in names.items() if text.upper() in nm.upper()}
    if len(found) == 1:
        return found.pop()
    if not found:
        raise UserError(f"no satellite matching '{text}' in the history file")
    shown = ", ".join(f"{n} {names[n]}" for n in sorted(found)[:10])
    raise UserError(f"'{text}' is ambiguous in the history file: {shown}; give a NORAD id")


def load_histories(
    sats: Sequence[str],
    groups: Sequence[str],
    files: Sequence[Path],
    since: datetime | None,
    until: datetime | None,
    db: Path | None,
    *,
    owners: Sequence[str] | None = None,
    object_types: Sequence[str] | None = None,
) -> dict[int, list[ElementSet]]:
    """Element-set histories (NORAD id → sets by epoch) of the selection, within the interval
    (``owners``/``object_types``: see :func:`overflight.selection.filter_elements`).

    With files, ``sats`` pick objects in the files; otherwise they are looked up in the catalog.
    """
    from overflight.selection import select_histories

    if not (sats or groups or files):
        raise UserError("nothing selected: give --sat, --group or --tle-history FILE")
    extra: list[ElementSet] | None = None
    if files:
        extra = []
        for f in files:
            extra.extend(_read_history_file(f))
        if sats:
            wanted = {_match_file_object(extra, s) for s in sats}
            extra = [es for es in extra if es.norad_id in wanted]
            sats = []  # with files, sats pick objects in the files
        extra = _in_interval(extra, since, until)
    return select_histories(sats, groups, extra=extra, db=db, start=since, end=until,
                            owners=owners, object_types=object_types)


def object_types(hist: dict[int, list[ElementSet]], db: Path | None) -> dict[int, str]:
    """SATCAT object types of the objects that have an imported SATCAT entry (none when the
    catalog cannot be opened: the names still tell debris and rocket bodies)."""
    from overflight.catalog import Catalog
    from overflight.errors import OverflightError

    try:
        with Catalog.open(db) as cat:
            return {nid: rec.object_type for nid, rec in cat.satcat(hist).items()}
    except OverflightError:
        return {}


def _interval(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    from overflight.times import resolve_time

    t0 = resolve_time(since, "since") if since else None
    t1 = resolve_time(until, "until") if until else None
    if t0 is not None and t1 is not None and t1 <= t0:
        raise UserError("--until must be after --since")
    return t0, t1


# ---- output ---------------------------------------------------------------------------------
def _short(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


def _plural(n: int, word: str, many: str | None = None) -> str:
    """``1 element set``, ``2 element sets``."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def _span(start: datetime, end: datetime) -> str:
    """``2026-05-25T07:40:06Z–07:51:12Z``; the end with its date when that differs."""
    from overflight.times import format_utc

    a, b = format_utc(start), format_utc(end)
    return f"{a}–{b[11:] if a[:10] == b[:10] else b}"


def _where_cell(m: Maneuver) -> str:
    if m.lat_deg is None or m.lon_deg is None:
        return ""
    return f"{m.lat_deg:.1f}, {m.lon_deg:.1f} {m.place}"


def _kind_cell(m: Maneuver) -> str:
    text = m.kind + ("" if m.confirmed else " (last set)")
    if not m.is_maneuver:
        text += f": not a maneuver ({m.object_type})"
    return text


def _maneuver_row(m: Maneuver) -> dict[str, Any]:
    from overflight.times import format_time_with_uncertainty

    est = ""
    if m.estimated_time is not None:
        est = format_time_with_uncertainty(m.estimated_time, m.time_uncertainty_s)
        if m.passes is not None:
            if any(p.contains_estimate for p in m.passes):
                est += " in pass"
            elif any(p.within_uncertainty for p in m.passes):
                est += " pass within ±"
    return {
        "satellite": f"{m.name} ({m.norad_id})",
        "before": _short(m.before_epoch),
        "after": _short(m.after_epoch),
        "estimated (±)": est,
        "where (lat°, lon°)": _where_cell(m),
        "Δa km": f"{m.delta_a_km:+.3f}",
        "Δperigee km": f"{m.delta_perigee_km:+.3f}",
        "Δapogee km": f"{m.delta_apogee_km:+.3f}",
        "Δincl°": f"{m.delta_inclination_deg:+.4f}",
        "Δv m/s": f"{m.delta_v_m_s:.3f}",
        "kind": _kind_cell(m),
    }


def _history_row(s: OrbitState) -> dict[str, Any]:
    return {
        "epoch": s.epoch.strftime("%Y-%m-%d %H:%M:%S"),
        "a km": f"{s.semi_major_axis_km:.3f}",
        "perigee km": f"{s.perigee_alt_km:.3f}",
        "apogee km": f"{s.apogee_alt_km:.3f}",
        "e": element_cell("eccentricity", s.eccentricity),
        "incl°": element_cell("inclination_deg", s.inclination_deg),
        "raan°": element_cell("raan_deg", s.raan_deg),
        "argp°": element_cell("arg_perigee_deg", s.arg_perigee_deg),
        "n rev/d": element_cell("mean_motion_rev_day", s.mean_motion_rev_day),
        "ndot rev/d²": element_cell("mean_motion_dot", s.mean_motion_dot_rev_day2),
        "bstar": element_cell("bstar", s.bstar),
        "ltan h": "" if s.ltan_hours is None else f"{s.ltan_hours:.3f}",
    }


def _status_lines(result: DetectionResult, limit: int = 20) -> list[str]:
    """What the maneuver answer rests on, for objects whose status is not ``ok``: one line
    each (the first ``limit``), then the count of the rest."""
    bad = [st for st in result.statuses if st.status != "ok"]
    lines = [f"{st.name or st.norad_id} ({st.norad_id}): {st.reason}" for st in bad[:limit]]
    for st in bad[:limit]:
        lines += [f"  {g.describe()}" for g in st.gaps]
    if len(bad) > limit:
        lines.append(f"... and {len(bad) - limit} more objects without a full answer")
    return lines


def _note_short_history(statuses: Iterable[str]) -> None:
    """Where some object has too little history, one note on stderr saying how to get more."""
    if "not-enough-history" in statuses:
        sys.stderr.write("overflight: note: for more history, import more element sets of "
                         "these objects: overflight catalog import FILE (or read one with "
                         "--tle-history FILE)\n")


def _none_found_text(result: DetectionResult) -> str:
    """'No maneuvers' only where the history could be examined."""
    ok = sum(1 for st in result.statuses if st.status == "ok")
    if result.status == "not-enough-history" and result.pairs_compared == 0:
        return "no answer: not enough history (see above)"
    pairs = f"{result.pairs_compared} pair{'' if result.pairs_compared == 1 else 's'}"
    return (f"no maneuvers detected in the {pairs} compared"
            + (f" ({ok} of {result.objects} objects fully examined)" if ok < result.objects
               else ""))


def _decay_status_text(a: DecayAssessment) -> str:
    if a.estimate is not None:
        return _decay_text(a.estimate)
    return f"Decay: {a.reason}"


def _decay_text(d: DecayEstimate) -> str:
    from overflight.maneuvers import format_decay_rate

    return (f"Decay (estimate): perigee {d.perigee_alt_km:.3f} km, semi-major axis "
            f"{format_decay_rate(d.decay_rate_m_day, d.decay_rate_sigma_m_day)}; "
            f"below {d.threshold_alt_km:.0f} km around {d.estimated_date:%Y-%m-%d} "
            f"± {d.uncertainty_days:.0f} days (exponential atmosphere, today's drag, "
            "no further maneuvers)")


def _decay_table_row(d: DecayEstimate) -> dict[str, Any]:
    from overflight.maneuvers import format_decay_rate

    return {
        "norad_id": d.norad_id,
        "name": d.name,
        "epoch": _short(d.epoch),
        "perigee km": f"{d.perigee_alt_km:.3f}",
        "decay m/day (±1σ)": format_decay_rate(d.decay_rate_m_day,
                                        d.decay_rate_sigma_m_day).removesuffix(" m/day"),
        "estimated date": f"{d.estimated_date:%Y-%m-%d}",
        "± days": f"{d.uncertainty_days:.0f}",
        "label": d.label,
    }


QUIET_COLUMNS = ["norad_id", "name", "status", "decay m/day (±1σ)", "sets", "span d"]


def _quiet_row(a: DecayAssessment) -> dict[str, Any]:
    """A row of the objects without a decay date (no significant decay, beyond the horizon)."""
    return {"norad_id": a.norad_id, "name": a.name, "status": a.status,
            "decay m/day (±1σ)": a.rate_text.removesuffix(" m/day"), "sets": a.fit_points,
            "span d": f"{a.fit_span_days:.2f}"}


def plot_history(
    states: Sequence[OrbitState], maneuvers: Sequence[Maneuver], path: Path, title: str
) -> None:
    """Perigee/apogee with maneuvers (``overflight.plot.history``) saved as a PNG."""
    from overflight.plot import history

    history(states, maneuvers, title=title).savefig(path, dpi=110)


def _maneuver_rows(maneuvers: Sequence[Maneuver], fmt: str) -> list[dict[str, Any]]:
    rows = [m.to_dict() for m in maneuvers]
    if fmt == "csv":
        for r, m in zip(rows, maneuvers, strict=True):
            if m.passes is not None:
                r["passes"] = len(m.passes)
    return rows


# ---- commands -------------------------------------------------------------------------------
def register(app: typer.Typer) -> None:
    """Add `history`, `maneuvers` and `decay`."""

    @app.command("history")
    def history(
        sat: str | None = typer.Argument(
            None, help="NORAD id or name (in the catalog, or in --tle-history)."),
        tle_history: Path | None = typer.Option(
            None, "--tle-history", help="Element-set history file (TLE/OMM, may be gzip)."),
        since: str | None = typer.Option(None, help="Only element sets from this time (ISO 8601)."),
        until: str | None = typer.Option(None, help="Only element sets up to this time."),
        fmt: OutFormat = typer.Option(OutFormat.table, "--format", "-f"),
        plot: Path | None = typer.Option(
            None, help="Draw perigee/apogee altitude with maneuvers to this PNG."),
        output: Path | None = OutputOption,
        db: Path | None = DbOption,
    ) -> None:
        """Orbit history of one satellite: derived elements per element set, maneuvers, decay."""
        from overflight.history import OrbitTable
        from overflight.maneuvers import assess_decay, detect_maneuvers, history_document

        t0, t1 = _interval(since, until)
        if sat is None and tle_history is None:
            raise UserError("give a satellite (NORAD id or name) or --tle-history FILE")
        files = [tle_history] if tle_history else []
        hist = load_histories([sat] if sat else [], [], files, t0, t1, db)
        if len(hist) != 1:
            raise UserError(f"the history file holds {len(hist)} objects; name one (NORAD id)")
        (nid, sets), = hist.items()
        table = OrbitTable.from_histories({nid: sets})
        states = table.states()
        result = detect_maneuvers(table, object_types=object_types(hist, db))
        assessed = assess_decay(table, maneuvers=result.maneuvers)
        status = result.statuses[0]
        name = sets[-1].name or str(nid)
        title = f"{name} ({nid}): {_plural(len(states), 'element set')}"
        _note_short_history([status.status, assessed.status])
        if plot is not None:
            plot_history(states, result.maneuvers, plot, f"{name} ({nid}) perigee and apogee")
            wrote(plot)
        with output_to(output):
            if fmt == OutFormat.json:
                import json

                doc = history_document(table, result, assessed)
                json.dump(doc, sys.stdout, indent=2)
                sys.stdout.write("\n")
            elif fmt == OutFormat.csv:
                emit([s.to_dict() for s in states], "csv")
            else:
                emit([_history_row(s) for s in states], "table", title=title + " (UTC)",
                     columns=HISTORY_COLUMNS)
                for line in _status_lines(result):
                    typer.echo(line)
                if result.maneuvers:
                    emit([_maneuver_row(m) for m in result.maneuvers], "table",
                         title="Maneuvers (UTC)", columns=MANEUVER_COLUMNS)
                elif status.status != "not-enough-history":
                    typer.echo(_none_found_text(result))
                typer.echo(_decay_status_text(assessed))

    @app.command("maneuvers")
    def maneuvers(
        sat: list[str] = typer.Option([], "--sat", "-s", help="NORAD id or name (repeatable)."),
        group: list[str] = typer.Option([], "--group", "-g", help="Catalog group (repeatable)."),
        tle_history: list[Path] = typer.Option(
            [], "--tle-history", help="Element-set history file (TLE/OMM, may be gzip)."),
        since: str | None = typer.Option(None, help="Only element sets from this time (ISO 8601)."),
        until: str | None = typer.Option(None, help="Only element sets up to this time."),
        station: str | None = typer.Option(
            None, help="Also list passes over this site (name or LAT,LON) in each bracket."),
        threshold: float = typer.Option(7.0, help="Robust sigmas a change must exceed."),
        min_dv: float = typer.Option(0.02, help="Smallest Δv reported, m/s."),
        owner: list[str] = OwnerOption, object_type: list[str] = ObjectTypeOption,
        fmt: OutFormat = typer.Option(OutFormat.table, "--format", "-f"),
        output: Path | None = OutputOption,
        db: Path | None = DbOption,
    ) -> None:
        """Maneuvers detected in element-set histories of satellites, groups or a file."""
        from overflight.maneuvers import DetectionConfig, detect_maneuvers, with_passes

        if threshold <= 0 or min_dv < 0:
            raise UserError("--threshold must be positive and --min-dv not negative")
        site = None
        if station is not None:
            from overflight.sites import resolve_site

            site = resolve_site(station)
        t0, t1 = _interval(since, until)
        hist = load_histories(sat, group, tle_history, t0, t1, db, owners=owner,
                              object_types=object_type)
        from overflight.workload import history_workload

        # An estimate only (no cap): the histories are read already, the scan is linear.
        check_job(history_workload(len(hist), sum(len(v) for v in hist.values())),
                  no_limit=True)
        config = DetectionConfig(threshold=threshold, min_delta_v_m_s=min_dv)
        result = detect_maneuvers(hist, config=config, object_types=object_types(hist, db))
        found = result.maneuvers
        if site is not None:
            found = with_passes(found, result.table, site)
        real = [m for m in found if m.is_maneuver]
        other = len(found) - len(real)
        typer.echo(
            f"{_plural(len(real), 'maneuver')} in {len({m.norad_id for m in real})} of "
            f"{_plural(result.objects, 'object')} ("
            + (f"and {_plural(other, 'change')} of debris or rocket bodies, not maneuvers; "
               if other else "")
            + f"{_plural(result.element_sets, 'element set')}, "
            f"{_plural(result.pairs_compared, 'pair')} compared, "
            f"{_plural(result.glitches, 'outlier flag')} dropped; status {result.status})",
            err=True)
        _note_short_history(st.status for st in result.statuses)
        with output_to(output):
            if fmt == OutFormat.json:
                import json

                doc = result.to_dict()
                doc["maneuvers"] = [m.to_dict() for m in found]
                json.dump(doc, sys.stdout, indent=2)
                sys.stdout.write("\n")
                return
            for line in _status_lines(result):
                typer.echo(line, err=fmt != OutFormat.table)
            if fmt == OutFormat.table:
                if not found:
                    typer.echo(_none_found_text(result))
                    return
                emit([_maneuver_row(m) for m in found], "table", title="Maneuvers (UTC)",
                     columns=MANEUVER_COLUMNS)
                if site is not None:
                    for m in found:
                        for p in m.passes or ():
                            mark = ("  <- estimate" if p.contains_estimate else
                                    "  (within uncertainty)" if p.within_uncertainty else "")
                            typer.echo(f"  {m.norad_id} pass over {p.station}: "
                                       f"{_span(p.start, p.end)} max "
                                       f"{p.max_elevation_deg:.0f}°{mark}")
            else:
                extra = ["passes", "estimate_in_pass", "pass_within_uncertainty"]
                cols = MANEUVER_CSV + (extra if site is not None else [])
                emit(_maneuver_rows(found, fmt.value), fmt.value, columns=cols)

    @app.command("decay")
    def decay(
        sat: list[str] = typer.Option([], "--sat", "-s", help="NORAD id or name (repeatable)."),
        group: list[str] = typer.Option([], "--group", "-g", help="Catalog group (repeatable)."),
        tle_history: list[Path] = typer.Option(
            [], "--tle-history", help="Element-set history file (TLE/OMM, may be gzip)."),
        since: str | None = typer.Option(None, help="Only element sets from this time (ISO 8601)."),
        until: str | None = typer.Option(None, help="Only element sets up to this time."),
        below: float = typer.Option(150.0, help="Perigee altitude that counts as decayed, km."),
        fmt: OutFormat = typer.Option(OutFormat.table, "--format", "-f"),
        output: Path | None = OutputOption,
        db: Path | None = DbOption,
    ) -> None:
        """Estimated dates when decaying objects' perigees fall below --below km (estimates)."""
        from overflight.maneuvers import DECAY_HORIZON_DAYS, assess_decay, detect_maneuvers

        if below <= 100:
            raise UserError("--below must be above 100 km (the atmosphere model's floor)")
        t0, t1 = _interval(since, until)
        hist = load_histories(sat, group, tle_history, t0, t1, db)
        result = detect_maneuvers(hist, object_types=object_types(hist, db))
        by_obj: dict[int, list[Maneuver]] = {}
        for m in result.maneuvers:
            by_obj.setdefault(m.norad_id, []).append(m)
        answers = [assess_decay(sets, maneuvers=by_obj.get(nid, []), threshold_alt_km=below)
                   for nid, sets in hist.items()]
        rows = sorted((a.estimate for a in answers if a.estimate is not None),
                      key=lambda d: d.estimated_date)
        _note_short_history(a.status for a in answers)
        with output_to(output):
            if fmt == OutFormat.json:
                import json

                answers.sort(key=lambda a: (a.estimate is None, a.estimate.days_left
                                            if a.estimate else 0.0, a.norad_id))
                json.dump([a.to_dict() for a in answers], sys.stdout, indent=2)
                sys.stdout.write("\n")
                return
            counts: dict[str, int] = {}
            for a in answers:
                counts[a.status] = counts.get(a.status, 0) + 1
            typer.echo(f"{len(answers)} objects: " + ", ".join(
                f"{n} {code}" for code, n in sorted(counts.items())), err=True)
            if fmt == OutFormat.table:
                for a in answers:
                    if a.status in ("not-enough-history", "data-gap"):
                        typer.echo(f"{a.name or a.norad_id} ({a.norad_id}): {a.reason}")
                if rows:
                    emit([_decay_table_row(d) for d in rows], "table",
                         title="Decay estimates (UTC)", columns=DECAY_TABLE_COLUMNS)
                quiet = sorted((a for a in answers
                                if a.status in ("no-significant-decay", "beyond-horizon")),
                               key=lambda a: a.decay_rate_m_day or 0.0)
                if quiet:
                    emit([_quiet_row(a) for a in quiet], "table",
                         title=f"No decay date within {DECAY_HORIZON_DAYS / 365.25:g} years "
                         "(change of the mean semi-major axis)", columns=QUIET_COLUMNS)
                return
            emit([d.to_dict() for d in rows], fmt.value, columns=DECAY_COLUMNS)
