"""Geometry and colours of the reports' small charts; reports/_macros.html draws the SVG."""

from collections.abc import Sequence

# Colour-blind-safe enough on paper: the heat map also prints the number in every cell.
SERIES_COLORS = ("#1f5fa8", "#9a9a9a", "#d9822b", "#2e8b57", "#8e44ad", "#c0392b")
EMPTY_CELL = "#f1f1f1"
# Below this change of score (points of 100) a trend counts as flat.
TREND_THRESHOLD = 2.0


def heat_color(percent: float | None) -> str:
    """Red (0) through amber (60) to green (100), as an HSL colour light enough for text."""
    if percent is None:
        return EMPTY_CELL
    value = max(0.0, min(100.0, percent))
    hue = 0 + 120 * max(0.0, (value - 40) / 60)
    return f"hsl({hue:.0f}, 65%, {82 - 10 * (value < 60):.0f}%)"


def trend(values: Sequence[float]) -> str | None:
    """'up', 'down' or 'flat': the later half of the values against the earlier half."""
    if len(values) < 2:
        return None
    half = len(values) // 2
    earlier = sum(values[:half]) / half
    later = sum(values[half:]) / (len(values) - half)
    if later - earlier > TREND_THRESHOLD:
        return "up"
    if earlier - later > TREND_THRESHOLD:
        return "down"
    return "flat"


def line_chart(labels: Sequence[str], series: Sequence[dict], width: int = 520,
               height: int = 170, y_max: float = 100.0) -> dict:
    """Polylines for `series` ([{name, values}] with None for gaps) over the x `labels`."""
    left, right, top, bottom = 30, width - 16, 8, height - 22
    step = (right - left) / max(1, len(labels) - 1)

    def x(index: int) -> float:
        return round(left + (step * index if len(labels) > 1 else (right - left) / 2), 1)

    def y(value: float) -> float:
        return round(bottom - (bottom - top) * max(0.0, min(value, y_max)) / y_max, 1)

    return {
        "width": width, "height": height, "left": left, "right": right, "bottom": bottom,
        "grid": [{"y": y(v), "label": f"{v:.0f}"} for v in (0, 25, 50, 75, 100)],
        "x_labels": _x_labels(labels, x),
        "series": [
            _series(index, entry, x, y) for index, entry in enumerate(series)
        ],
    }


def _x_labels(labels: Sequence[str], x) -> list[dict]:
    """At most eight labels, evenly spread, so that dates never overlap."""
    every = max(1, -(-len(labels) // 8))
    return [{"x": x(i), "label": label} for i, label in enumerate(labels) if i % every == 0]


def _series(index: int, entry: dict, x, y) -> dict:
    dots = [
        {"x": x(i), "y": y(value), "value": value}
        for i, value in enumerate(entry["values"]) if value is not None
    ]
    return {
        "name": entry["name"],
        "color": entry.get("color") or SERIES_COLORS[index % len(SERIES_COLORS)],
        "dashed": bool(entry.get("dashed")),
        "points": " ".join(f"{d['x']},{d['y']}" for d in dots),
        "dots": dots,
    }


def bar(percent: float | None, width: int = 120) -> dict:
    """A horizontal bar of `percent` of `width`, coloured like the heat map."""
    value = 0.0 if percent is None else max(0.0, min(100.0, percent))
    return {"width": width, "filled": round(width * value / 100, 1), "color": heat_color(percent)}
