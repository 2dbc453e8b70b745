"""Server-drawn SVG charts: geometry only, so templates can draw them under a strict CSP."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    """One rectangle of a stacked bar, with the number it stands for."""

    x: float
    y: float
    width: float
    height: float
    series: str
    value: int
    label: str


@dataclass(frozen=True)
class StackedBars:
    """A stacked bar chart's rectangles, axis maximum and size."""

    bars: list[Bar]
    maximum: int
    width: int
    height: int


def stacked_bars(columns: Sequence[tuple[str, dict[str, int]]], series: Sequence[str],
                 width: int = 720, height: int = 200) -> StackedBars:
    """Stack each column's series from the bottom; the tallest column fills the height."""
    maximum = max([sum(values.values()) for _, values in columns] + [1])
    slot = width / max(len(columns), 1)
    bars = []
    for index, (label, values) in enumerate(columns):
        bottom = float(height)
        for name in series:
            value = values.get(name, 0)
            if not value:
                continue
            tall = height * value / maximum
            bottom -= tall
            bars.append(Bar(round(index * slot + slot * 0.1, 2), round(bottom, 2),
                            round(slot * 0.8, 2), round(tall, 2), name, value, label))
    return StackedBars(bars, maximum, width, height)
