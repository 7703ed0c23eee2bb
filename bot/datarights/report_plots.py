"""The report's plots: matplotlib (Agg) PNGs as base64, drawn from the figures of their tables.

Invariant: a plot shows only figures its table shows; a suppressed one is marked "<5" or
left out, never drawn; a plot with nothing to show is None (the page says why).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

from bot.datarights.small_numbers import SUPPRESSED

PURPLE, TEAL, GREY = "#5b3f8c", "#2f7f7a", "#bbbbbb"
PALETTE = ("#2f7f7a", "#d9a441", "#5b3f8c", "#c4553b", "#6b8fb3", "#8a6d3b", "#3b8a5a", "#b35c8f")


def _pyplot() -> Any:
    """matplotlib on first use: importing it costs every CLI call and service start ~0.5 s."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    _pyplot().close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def line_plot(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    low: float,
    high: float,
    ylabel: str,
) -> str | None:
    """One line over ``labels``; a None value is marked "<5" on the axis, not drawn."""
    if all(v is None for v in values):
        return None
    fig, ax = _pyplot().subplots(figsize=(5.5, 3))
    xs = list(range(len(labels)))
    ax.plot(xs, [v if v is not None else float("nan") for v in values], marker="o", color=PURPLE)
    for x, v in zip(xs, values, strict=True):
        if v is None:
            ax.text(x, low, SUPPRESSED, ha="center", va="bottom", fontsize=8, color="#777")
    ax.set_xticks(xs, list(labels))
    ax.set_xlim(-0.5, len(xs) - 0.5)
    ax.set_ylim(low, high)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return _png(fig)


def bar_plot(
    title: str, labels: list[str], values: list[float | None], ylim: float | None
) -> str | None:
    if all(v is None for v in values):
        return None
    fig, ax = _pyplot().subplots(figsize=(5.5, 3))
    ax.bar(labels, [v if v is not None else 0 for v in values], color=TEAL)
    for i, v in enumerate(values):
        if v is None:
            ax.text(i, 0, SUPPRESSED, ha="center", va="bottom", fontsize=8)
    if ylim is not None:
        ax.set_ylim(0, ylim)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def stacked_plot(
    title: str,
    labels: Sequence[str],
    totals: Sequence[int | None],
    segments: Sequence[tuple[str, Sequence[int | None]]],
) -> str | None:
    """Bars of ``totals`` split into ``segments`` (name, count per bar); a None count is not
    drawn, and what the shown segments leave of a shown total is one grey "<5 each" part."""
    if all(t is None for t in totals):
        return None
    fig, ax = _pyplot().subplots(figsize=(6.5, 3.5))
    xs = list(range(len(labels)))
    bottoms = [0.0] * len(xs)
    for colour, (name, counts) in zip(PALETTE * 2, segments, strict=False):
        heights = [float(c) if c is not None and t is not None else 0.0
                   for c, t in zip(counts, totals, strict=True)]  # fmt: skip
        if any(heights):
            ax.bar(xs, heights, bottom=bottoms, color=colour, label=name)
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    rest = [float(t) - b if t is not None else 0.0 for t, b in zip(totals, bottoms, strict=True)]
    if any(rest):
        ax.bar(xs, rest, bottom=bottoms, color=GREY, hatch="//", label=f"{SUPPRESSED} each")
    for x, t in zip(xs, totals, strict=True):
        if t is None:
            ax.text(x, 0, SUPPRESSED, ha="center", va="bottom", fontsize=8)
    ax.set_xticks(xs, list(labels))
    ax.set_title(title)
    ax.set_ylabel("women")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def interval_plot(
    title: str,
    labels: Sequence[str],
    intervals: Sequence[tuple[float, float, float] | None],
    ylabel: str,
) -> str | None:
    """Estimates with their CI as error bars, a line at no change; None is marked "<5"."""
    if all(i is None for i in intervals):
        return None
    fig, ax = _pyplot().subplots(figsize=(5.5, 3))
    xs = list(range(len(labels)))
    ax.axhline(0, color="#777", linewidth=0.8)
    for x, found in zip(xs, intervals, strict=True):
        if found is None:
            ax.text(x, 0, SUPPRESSED, ha="center", va="bottom", fontsize=8, color="#777")
            continue
        estimate, low, high = found
        ax.errorbar(
            [x], [estimate], yerr=[[estimate - low], [high - estimate]],
            fmt="o", color=PURPLE, capsize=4,
        )  # fmt: skip
    ax.set_xticks(xs, list(labels))
    ax.set_xlim(-0.5, len(xs) - 0.5)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return _png(fig)
