"""`overflight verify`: is an imaging claim physically possible? (one claim or a claims file)."""

from __future__ import annotations

import json
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from overflight.cli._common import (
    EXIT_DATA,
    DbOption,
    OutputOption,
    UserError,
    emit,
    output_to,
    warn,
    with_flags,
    wrote,
)

if TYPE_CHECKING:
    from overflight.catalog import Catalog
    from overflight.claims import ClaimResult


class VerifyFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    md = "md"
    html = "html"


TABLE_COLUMNS = ["claim", "satellite", "target", "claimed (UTC)", "verdict", "offset s",
                 "ground km", "off-nadir°", "sun°", "elset age d"]
CSV_COLUMNS = ["claim_id", "verdict", "confidence", "norad_id", "satellite_name", "target",
               "claimed_time", "claimed_time_end", "closest_approach_time", "time_offset_s",
               "ground_distance_km", "off_nadir_deg", "elevation_deg", "sun_elevation_deg",
               "gsd_m", "elset_epoch", "elset_age_days", "maneuver_between_elsets",
               "data_needed", "reasons", "origin"]
_MAP_MARGIN_MIN = 25.0
_MAP_STEP_S = 20.0


def _safe_name(text: str, used: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "claim"
    name = base
    n = 2
    while name.lower() in used:
        name = f"{base}-{n}"
        n += 1
    used.add(name.lower())
    return name


def draw_claim_map(result: ClaimResult, path: Path) -> bool:
    """Ground track from 25 min before to 25 min after the claimed time (stretched to take in a
    closest approach up to an hour away), with the target, the nadir point at the claimed time
    and at the closest approach marked; False when there is nothing to draw."""
    from datetime import timedelta

    from overflight.cli.track_cmd import plot_track, track_rows
    from overflight.times import format_utc, time_grid

    claim, es = result.claim, result.elset
    if claim is None or es is None or result.verdict not in ("consistent", "inconsistent"):
        return False
    margin = timedelta(minutes=_MAP_MARGIN_MIN)
    t0, t1 = claim.time, claim.end
    marks = [(claim.target.name, claim.target.lat_deg, claim.target.lon_deg)]
    at = result.at_claimed_time
    if at is not None:
        marks.append(("nadir at claimed time", at.nadir_lat_deg, at.nadir_lon_deg))
    ca = result.closest
    if ca is not None and abs((ca.time - claim.time).total_seconds()) <= 3600.0:
        t0, t1 = min(t0, ca.time), max(t1, ca.time)
        marks.append(("closest approach", ca.nadir_lat_deg, ca.nadir_lon_deg))
    # On a world map marks closer than a few degrees overprint each other: keep the first.
    kept: list[tuple[str, float, float]] = []
    for m in marks:
        if all(abs(m[1] - k[1]) + abs(((m[2] - k[2] + 540.0) % 360.0) - 180.0) > 6.0
               for k in kept):
            kept.append(m)
    marks = kept
    # The verdict judged the element set's age (--max-age-days): no second check here.
    rows = track_rows(es, time_grid(t0 - margin, t1 + margin, _MAP_STEP_S), max_age_days=None)
    title = (f"{result.claim_id}: {es.name or es.norad_id} ({es.norad_id}) from "
             f"{format_utc(t0 - margin)}, claimed {format_utc(claim.time)} — {result.verdict}")
    plot_track(rows, path, title, marks=marks)
    return True


def _people_rows(results: list[ClaimResult]) -> list[dict[str, Any]]:
    rows = []
    for r in results:
        d = r.to_dict()
        verdict = r.verdict + (" (lowered)" if r.confidence == "lowered" else "")
        rows.append({
            "claim": r.claim_id,
            "satellite": d["satellite_name"] or d["satellite"],
            "target": d["target"],
            "claimed (UTC)": d["claimed_time"],
            "verdict": verdict,
            "offset s": d["time_offset_s"],
            "ground km": d["ground_distance_km"],
            "off-nadir°": d["off_nadir_deg"],
            "sun°": d["sun_elevation_deg"],
            "elset age d": d["elset_age_days"],
        })
    return rows


def _table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    from overflight.claims.report import SUMMARY_NOTE

    table = Table(title="Imaging claims", caption=SUMMARY_NOTE)
    for col in TABLE_COLUMNS:
        wide = col in ("claimed (UTC)", "verdict")
        table.add_column(col, no_wrap=wide, justify="right" if col.endswith(("s", "km", "°", "d"))
                         and col not in ("claim",) else "left")
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in TABLE_COLUMNS))
    # Piped output is not cut to 80 columns: the verdicts and times must stay whole.
    Console(file=sys.stdout, width=None if sys.stdout.isatty() else 150).print(table)


def _write_report(results: list[ClaimResult], directory: Path, preamble: str) -> None:
    from overflight.claims import render_html, render_markdown

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{directory}: cannot create report directory ({exc.strerror})") from None
    maps: dict[str, str] = {}
    used: set[str] = {"report"}
    for r in results:
        name = _safe_name(r.claim_id, used) + ".png"
        if draw_claim_map(r, directory / name):
            maps[r.claim_id] = name
    (directory / "report.md").write_text(
        render_markdown(results, maps=maps, preamble=preamble), encoding="utf-8")
    (directory / "report.html").write_text(
        render_html(results, maps=maps, preamble=preamble), encoding="utf-8")
    wrote(f"{directory / 'report.md'}, report.html and {len(maps)} map(s)")


def register(app: typer.Typer) -> None:
    """Add `verify`."""

    @app.command("verify")
    def verify(
        claims_file: Path | None = typer.Argument(
            None, help="Claims file: YAML (.yaml/.yml) or CSV (.csv). Or give --sat/--site/--time."
        ),
        sat: str | None = typer.Option(None, "--sat", help="Satellite: NORAD id or name."),
        site: str | None = typer.Option(
            None, "--site", help="Target: a named site or LAT,LON[,ALT_M]."
        ),
        time: str | None = typer.Option(
            None, "--time",
            help="Claimed time: ISO 8601 with Z or offset, or local time with --zone.",
        ),
        time_end: str | None = typer.Option(
            None, "--time-end", help="End of a claimed interval (same form as --time)."
        ),
        zone: str | None = typer.Option(
            None, "--zone", help="IANA time zone of a local --time, e.g. Asia/Pyongyang."
        ),
        claim_id: str = typer.Option("claim", "--id", help="Name of the single claim."),
        max_off_nadir: float | None = typer.Option(
            None, "--max-off-nadir", help="Sensor reach, degrees off-nadir (single claim)."
        ),
        nadir_gsd: float | None = typer.Option(
            None, "--nadir-gsd", help="Sensor nadir GSD in metres (single claim)."
        ),
        sensor: str | None = typer.Option(
            None, "--sensor", help="Sensor kind: optical or sar (single claim)."
        ),
        tolerance: float | None = typer.Option(
            None, "--tolerance",
            help="Time tolerance in seconds for claims that give none (default 120).",
        ),
        max_age_days: float = typer.Option(
            3.0, "--max-age-days", help="Use element sets at most this many days from a claim."
        ),
        search_hours: float = typer.Option(
            3.0, "--search-hours", help="Look for opportunities this far either side (hours)."
        ),
        fmt: VerifyFormat = typer.Option(VerifyFormat.table, "--format", "-f"),
        output: Path | None = OutputOption,
        report: Path | None = typer.Option(
            None, "--report",
            help="Also write DIR/report.md and report.html with a ground-track map per claim.",
        ),
        sensors_file: Path | None = typer.Option(
            None, "--sensors", help="Sensor table overriding the shipped one (YAML)."
        ),
        db: Path | None = DbOption,
    ) -> None:
        """Check imaging claims: could the satellite have imaged the target at the claimed time?

        Verdicts: consistent, inconsistent, cannot-verify (rules: docs/claims.md). Exit status
        0 when every claim was checked, 1 when some claims could not be read (error rows), 2
        for unusable input.
        """
        from datetime import UTC, datetime

        from overflight import __version__
        from overflight.catalog import Catalog
        from overflight.claims import (
            ClaimError,
            ClaimsFileError,
            VerifyOptions,
            claim_from_fields,
            read_claims,
            stale_report,
            verify_claims,
        )
        from overflight.sensors import load_sensors

        single = [v is not None for v in (sat, site, time)]
        per_claim = {"--time-end": time_end, "--zone": zone, "--max-off-nadir": max_off_nadir,
                     "--nadir-gsd": nadir_gsd, "--sensor": sensor}
        if claims_file is not None:
            if any(single):
                raise UserError("give a claims file or --sat/--site/--time, not both")
            given = [k for k, v in per_claim.items() if v is not None]
            if given:
                raise UserError(f"{given[0]} applies to a single claim; put it in the file")
            try:
                entries = list(read_claims(claims_file).entries)
            except ClaimsFileError as exc:
                raise UserError(str(exc)) from None
            if not entries:
                raise UserError(f"{claims_file}: no claims in the file")
        else:
            if not all(single):
                missing = [n for n, v in zip(("--sat", "--site", "--time"), single, strict=True)
                           if not v]
                raise UserError(
                    "give a claims file, or a single claim with --sat, --site and --time "
                    f"(missing {', '.join(missing)})"
                )
            fields: dict[str, Any] = {
                "id": claim_id, "satellite": sat, "target": site, "time": time,
                "time_end": time_end, "zone": zone, "sensor": sensor,
                "max_off_nadir_deg": None if max_off_nadir is None else str(max_off_nadir),
                "nadir_gsd_m": None if nadir_gsd is None else str(nadir_gsd),
            }
            try:
                entries = [claim_from_fields(fields, source="command line")]
            except ClaimError as exc:
                prefix = f"command line: claim {claim_id!r}: "
                raise UserError(with_flags(
                    str(exc).replace(prefix, ""), {"time_end": "--time-end"},
                    heads={"target": "--site", "satellite": "--sat", "sensor": "--sensor",
                           "zone": "--zone"})) from None
            from overflight.cli._common import note_sites

            note_sites([site], areas=False)
        options = VerifyOptions(
            tolerance_s=120.0 if tolerance is None else tolerance,
            max_age_days=max_age_days,
            search_hours=search_hours,
        )
        try:
            options.validate()
        except ValueError as exc:
            raise UserError(with_flags(str(exc))) from None
        sensors = load_sensors(sensors_file)
        with Catalog.open(db) as cat:
            if sat is not None:
                _note_satellite(cat, sat)
            results = verify_claims(entries, cat, options=options, sensors=sensors)
            described = cat.public_description
        stale = stale_report(results)
        if stale:
            warn(stale.message("overflight catalog import"))
        preamble = (
            f"Checked with overflight {__version__} against {described} on "
            f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M')} UTC. Default tolerance "
            f"{options.tolerance_s:g} s; element sets used up to {options.max_age_days:g} days "
            f"from a claim; opportunities searched ±{options.search_hours:g} h. Verdict rules: "
            "docs/claims.md in the overflight repository."
        )
        if report is not None:
            _write_report(results, report, preamble)
        with output_to(output):
            _output(results, fmt, preamble)
        if any(r.verdict == "error" for r in results):
            raise typer.Exit(EXIT_DATA)


def _note_satellite(cat: Catalog, ref: str) -> None:
    """A warning line when --sat matched only part of a name (the claim's own answer says
    when it matches nothing or several)."""
    from overflight.catalog import CatalogError
    from overflight.selection import satellite_note

    try:
        line = satellite_note(ref, *cat.resolve_how(ref))
    except CatalogError:
        return
    if line is not None:
        warn(line)


def _output(results: list[ClaimResult], fmt: VerifyFormat, preamble: str) -> None:
    from overflight.claims import data_needed_summary, render_html, render_markdown

    if fmt == VerifyFormat.json:
        json.dump([r.to_dict() for r in results], sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    elif fmt == VerifyFormat.csv:
        rows = []
        for r in results:
            d = r.to_dict()
            d["reasons"] = " | ".join(r.reasons)
            rows.append(d)
        emit(rows, "csv", columns=CSV_COLUMNS)
    elif fmt == VerifyFormat.md:
        sys.stdout.write(render_markdown(results, preamble=preamble) + "\n")
    elif fmt == VerifyFormat.html:
        sys.stdout.write(render_html(results, preamble=preamble) + "\n")
    else:
        _table(_people_rows(results))
        for r in results:
            typer.echo(f"\n{r.claim_id}: {r.verdict}"
                       + (" (confidence lowered)" if r.confidence == "lowered" else ""))
            for reason in r.reasons:
                typer.echo(f"  - {reason}")
        needed = data_needed_summary(results)
        if needed:
            typer.echo("\nTo settle the claims that cannot be verified:")
            for n in needed:
                typer.echo(f"  - {n} ({n.claims} claim{'s' if n.claims > 1 else ''})")
