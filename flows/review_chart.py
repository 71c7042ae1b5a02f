"""The review survey's chart: each rating's median as a bar (this year beside last year when
there is one), drawn headless with matplotlib's Agg backend into a small PNG that reads on a
phone, with colours safe for colour-blind readers (Okabe–Ito) and hatching, so meaning never
rests on colour alone; and its alt text, which says every figure the chart shows."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

THIS_YEAR_COLOUR = "#0072B2"  # Okabe–Ito blue
LAST_YEAR_COLOUR = "#E69F00"  # Okabe–Ito orange
WIDTH_INCHES, HEIGHT_INCHES, DPI = 5.4, 6.6, 100  # 540 × 660 px: one phone screen
PNG_COLOURS = 16  # the PNG is saved with a small palette: a few kilobytes, fit for a Teams card


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (no display: a PNG in memory). Imported when a
    chart is drawn, not when copbot starts: it is most of copbot's start-up time otherwise."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def small_png(raw: io.BytesIO, colours: int = PNG_COLOURS) -> bytes:
    """A PNG saved by matplotlib, again with a small palette: a few kilobytes, fit for a card."""
    from PIL import Image  # matplotlib's own dependency

    raw.seek(0)
    small = io.BytesIO()
    with Image.open(raw) as image:
        image.convert("RGB").quantize(colors=colours).save(small, format="PNG", optimize=True)
    return small.getvalue()


@dataclass(frozen=True)
class ChartRow:
    """One rating on the chart: its short label, and its median this year and last (None: none)."""

    label: str
    median: float | None
    last_year: float | None = None


def _number(value: float) -> str:
    return f"{value:g}"


def alt_text(rows: Sequence[ChartRow], year: int, last_year: int | None) -> str:
    """The figures the chart shows, in words: what a screen reader says instead of the image."""
    parts = []
    for row in rows:
        now = _number(row.median) if row.median is not None else "not shown (fewer than 3 answered)"
        part = f"{row.label} {now}"
        if last_year is not None:
            part += f" ({last_year}: {_number(row.last_year) if row.last_year is not None else 'none'})"
        parts.append(part)
    then = f", beside {last_year}" if last_year is not None else ""
    return f"Bar chart of the median rating out of 5 for each question, {year}{then}: " + "; ".join(parts) + "."


def chart_png(rows: Sequence[ChartRow], year: int, last_year: int | None = None) -> bytes:
    """The chart as PNG bytes (about 540 × 660 pixels, a few kilobytes)."""
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)
    try:
        labels = [row.label for row in rows][::-1]  # the first question at the top
        positions = list(range(len(labels)))
        both = last_year is not None
        height = 0.4 if both else 0.7
        now = [row.median or 0 for row in rows][::-1]
        bars = axes.barh(
            [p + (height / 2 if both else 0) for p in positions],
            now,
            height=height,
            color=THIS_YEAR_COLOUR,
            label=str(year),
        )
        axes.bar_label(bars, labels=[_number(v) if v else "–" for v in now], padding=3, fontsize=11)
        if both:
            before = [row.last_year or 0 for row in rows][::-1]
            old = axes.barh(
                [p - height / 2 for p in positions],
                before,
                height=height,
                color=LAST_YEAR_COLOUR,
                hatch="//",
                edgecolor="black",
                linewidth=0.4,
                label=str(last_year),
            )
            axes.bar_label(old, labels=[_number(v) if v else "–" for v in before], padding=3, fontsize=11)
            axes.legend(loc="lower center", bbox_to_anchor=(0.4, 1.0), ncol=2, fontsize=11, frameon=False)
        axes.set_yticks(positions, labels, fontsize=12)
        axes.set_xlim(0, 5.6)
        axes.set_xticks([1, 2, 3, 4, 5])
        axes.tick_params(axis="x", labelsize=11)
        axes.set_xlabel("Median rating (1 = lowest, 5 = highest)", fontsize=11)
        axes.set_title(f"Our COP review {year}", fontsize=14, pad=30 if both else 6)
        axes.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        raw = io.BytesIO()
        figure.savefig(raw, format="png", dpi=DPI)
    finally:
        plt.close(figure)
    return small_png(raw)
