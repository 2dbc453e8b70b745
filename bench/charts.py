"""The report's two charts: throughput and latency of our app against Isso and the Flask floor."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .load import Result

# (label on the chart, our test, Isso's test)
PAIRS = (("thread-200", "thread-200 (warm)", "thread-200"),
         ("thread-1000 page 1", "thread-1000 p1 (warm)", "thread-1000 p1"),
         ("counts of 20", "counts of 20", "counts of 20"),
         ("post", "post a comment", "post a comment"),
         ("mod queue", "moderation queue", None))
FLOORS = (("bare Flask: constant JSON", "constant JSON", ":"),
          ("bare Flask: prebuilt thread-200", "prebuilt thread-200", "--"))
COLORS = {"ours": "#1f6feb", "isso": "#d29922", "bare": "#57606a"}


def _find(results: Sequence[Result], server: str, test: str | None, workers: int) -> Result | None:
    return next((r for r in results if r.server == server and r.test == test
                 and r.workers == workers), None)


def _axes(count: int, title: str):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, count, figsize=(5.2 * count, 4.6), sharey=True, squeeze=False)
    fig.suptitle(title)
    return plt, fig, axes[0]


def _legend(fig, ax) -> None:  # type: ignore[no-untyped-def]
    """One legend for the figure, under the panels, clear of the bars."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))


def throughput(results: Sequence[Result], workers: Sequence[int], path: Path, note: str) -> Path:
    """Requests per second per endpoint, ours beside Isso, the floor as lines (log scale)."""
    plt, fig, axes = _axes(len(workers), f"Requests per second (log scale){note}")
    for ax, w in zip(axes, workers):
        xs = range(len(PAIRS))
        for offset, server, index in ((-0.2, "ours", 1), (0.2, "isso", 2)):
            values = [(_find(results, server, pair[index], w) or None) for pair in PAIRS]
            ax.bar([x + offset for x in xs], [v.rps if v else 0 for v in values], width=0.4,
                   color=COLORS[server], label="ours" if server == "ours" else "Isso")
        for label, test, style in FLOORS:
            found = _find(results, "bare", test, w)
            if found:
                ax.axhline(found.rps, color=COLORS["bare"], linestyle=style, label=label)
        ax.set_xticks(list(xs), [p[0] for p in PAIRS], rotation=20)
        ax.set_yscale("log")
        ax.set_title(f"{w} gunicorn worker{'s' if w > 1 else ''}")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("requests / s")
    _legend(fig, axes[0])
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def latency(results: Sequence[Result], workers: Sequence[int], path: Path, note: str) -> Path:
    """p50 (bar) and p99 (whisker top) per endpoint, ours beside Isso (log scale)."""
    plt, fig, axes = _axes(len(workers), f"Latency: bar p50, line to p99, ms (log scale){note}")
    for ax, w in zip(axes, workers):
        xs = range(len(PAIRS))
        for offset, server, index in ((-0.2, "ours", 1), (0.2, "isso", 2)):
            values = [_find(results, server, pair[index], w) for pair in PAIRS]
            p50 = [v.p50_ms if v else 0 for v in values]
            p99 = [v.p99_ms if v else 0 for v in values]
            pos = [x + offset for x in xs]
            ax.bar(pos, p50, width=0.4, color=COLORS[server],
                   label="ours" if server == "ours" else "Isso")
            ax.vlines(pos, p50, p99, color="black", linewidth=1)
            ax.scatter(pos, p99, marker="_", color="black", s=60)
        for label, test, style in FLOORS:
            found = _find(results, "bare", test, w)
            if found:
                ax.axhline(found.p50_ms, color=COLORS["bare"], linestyle=style,
                           label=f"{label} (p50)")
        ax.set_xticks(list(xs), [p[0] for p in PAIRS], rotation=20)
        ax.set_yscale("log")
        ax.set_title(f"{w} gunicorn worker{'s' if w > 1 else ''}")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("ms")
    _legend(fig, axes[0])
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
