"""`overflight demo`: the main job on the bundled data, as a new user first sees it."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import typer

from overflight.cli._common import DbOption, emit


def register(app: typer.Typer) -> None:
    """Add `demo`."""

    @app.command("demo")
    def demo(
        hours: float = typer.Option(24.0, help="Length of the report from the data's epoch."),
        max_off_nadir: float = typer.Option(30.0, help="Imaging limit: max off-nadir, deg."),
        sun_min: float = typer.Option(10.0, help="Daylight imaging: Sun at least this high."),
        db: Path | None = DbOption,
    ) -> None:
        """Overflight report: bundled Earth-observation satellites over the named sites."""
        from datetime import timedelta

        from rich.console import Console

        from overflight.access import Constraints
        from overflight.catalog import Catalog
        from overflight.cli.passes_cmd import plan_windows
        from overflight.freshness import stale_elements
        from overflight.passes import PassPlan
        from overflight.sensors import shipped_sensors
        from overflight.sites import named_sites

        console = Console()
        with Catalog.open(db) as cat:
            groups = cat.groups()
            elsets = cat.latest(group="resource")
            description = cat.description
        console.print(f"[bold]overflight[/bold] — catalog: {description}")
        emit([g.to_dict() for g in groups], "table", title="Catalog groups")
        if not elsets:
            console.print("no 'resource' group in this catalog; nothing to report")
            raise typer.Exit(0)
        first, last = min(e.epoch for e in elsets), max(e.epoch for e in elsets)
        console.print(f"Element-set epochs of the 'resource' group: {first:%Y-%m-%d %H:%M}Z → "
                      f"{last:%Y-%m-%d %H:%M}Z (the report starts at the newest; windows more "
                      "than 14 days from a satellite's epoch are refused)")
        t0 = last.replace(second=0, microsecond=0)
        t1 = t0 + timedelta(hours=hours)
        wv3 = next((e for e in elsets if e.norad_id == 40115), elsets[0])
        from overflight.basemap import describe_place
        from overflight.track import track_rows

        row = track_rows(wv3, [t0])[0]
        console.print(
            f"\n{wv3.name} ({wv3.norad_id}) at {row['time']}: {row['lat_deg']:.2f}°, "
            f"{row['lon_deg']:.2f}°, {row['alt_km']:.0f} km, "
            f"{'sunlit' if row['sunlit'] else 'in shadow'}, "
            f"{describe_place(row['lat_deg'], row['lon_deg'])}\n"
        )
        sites = [n.site for n in named_sites()]
        c = Constraints(max_off_nadir_deg=max_off_nadir, sun_min_deg=sun_min)
        console.print(
            f"Daylight imaging opportunities (off-nadir ≤ {max_off_nadir:g}°, Sun ≥ {sun_min:g}°) "
            f"of {len(elsets)} Earth-observation satellites over {len(sites)} named sites, "
            f"{t0:%Y-%m-%d %H:%M}Z + {hours:g} h"
        )
        plan = PassPlan(elsets, sites, t0, t1, c, stale_elements(elsets, t0, t1))
        windows = plan_windows(plan, warnings=False)
        sensors = shipped_sensors()
        per_site: dict[str, list[Any]] = defaultdict(list)
        for w in windows:
            per_site[w.site].append(w)
        rows = []
        for s in sites:
            ws = per_site.get(s.name, [])
            known = [w for w in ws if w.gsd_m is not None]
            best = min(known, key=lambda w: w.gsd_m or 1e9) if known else None
            rows.append({
                "site": s.name,
                "windows": len(ws),
                "satellites": len({w.norad_id for w in ws}),
                "first": ws[0].start.strftime("%m-%d %H:%MZ") if ws else "",
                "sharpest": (f"{best.name} {best.gsd_m:.2f} m at {best.peak:%m-%d %H:%MZ}"
                             if best else ""),
            })
        emit(rows, "table", title="Overflight report (UTC)",
             columns=["site", "windows", "satellites", "first", "sharpest"])
        console.print(
            f"{len(windows)} windows; GSD from the shipped sensor table ({len(sensors)} sensors). "
            "Details: overflight passes --group resource --all-sites "
            f"--start {t0:%Y-%m-%dT%H:%MZ} --days {hours / 24:g} --max-off-nadir "
            f"{max_off_nadir:g} --sun-min {sun_min:g}"
        )
