"""KPI charts as PNG files, for the CLI's report and the console's KPI page (both import it
from here, downward)."""

from __future__ import annotations

from pathlib import Path

from db.kpis import Kpis


def draw_charts(kpis: Kpis, folder: Path) -> list[Path]:
    """Satisfaction per day against the goal, where callers abandon, how queue legs end."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a server
    from matplotlib import pyplot

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    days = sorted(kpis.satisfaction_by_day)
    figure, axes = pyplot.subplots(figsize=(7, 3.5))
    axes.bar(days, [(kpis.satisfaction_by_day[d].rate or 0) * 100 for d in days],
             color="#4c72b0")
    axes.axhline(kpis.settings.satisfaction_goal * 100, color="#c44e52", linestyle="--",
                 label="goal")
    axes.set_ylim(0, 100)
    axes.set_ylabel("satisfied (%)")
    axes.set_title("Satisfaction by day")
    axes.legend()
    figure.autofmt_xdate()
    written.append(_save(figure, folder / "satisfaction-by-day.png", pyplot))

    figure, axes = pyplot.subplots(figsize=(7, 3.5))
    positions = sorted(kpis.abandon_positions)
    axes.bar([str(p) for p in positions], [kpis.abandon_positions[p] for p in positions],
             color="#dd8452")
    axes.set_xlabel("position in queue when the caller hung up")
    axes.set_ylabel("abandoned calls")
    axes.set_title("Where callers abandon")
    written.append(_save(figure, folder / "abandon-positions.png", pyplot))

    figure, axes = pyplot.subplots(figsize=(7, 3.5))
    in_time = kpis.answered_in_time
    labels = [f"answered ≤ {kpis.settings.service_level_s} s", "answered later", "abandoned"]
    axes.bar(labels, [in_time, kpis.answered - in_time, kpis.abandoned],
             color=["#55a868", "#8172b3", "#c44e52"])
    axes.set_title("How queue waits ended")
    written.append(_save(figure, folder / "queue-results.png", pyplot))
    return written


def _save(figure: object, path: Path, pyplot: object) -> Path:
    figure.savefig(path, dpi=100, bbox_inches="tight")  # type: ignore[attr-defined]
    pyplot.close(figure)  # type: ignore[attr-defined]
    return path
