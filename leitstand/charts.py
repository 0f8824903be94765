"""Charts as SVG drawn on the server: time series (lines or stacked bars per day) and bars per category.
No script and no inline style (the Content-Security-Policy allows neither): the markup carries classes that
the portal's stylesheet colours, and each point or bar a <title> (the browser shows it on hover) and its raw
number in data-value, the same number the CSV download gives. Labels are translated by the caller."""
import math
from dataclasses import dataclass, field
from datetime import date

from django.utils import formats
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 40


@dataclass
class Series:
    label: str
    values: list  # one value a day (None: nothing to show that day)


@dataclass
class Bar:
    label: str
    value: float
    note: str = ""


def format_value(value, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "percent":
        return f"{formats.number_format(value * 100, decimal_pos=1, use_l10n=True)} %"
    if unit == "ms":
        return format_duration(value)
    if unit == "share":
        return formats.number_format(value, decimal_pos=2, use_l10n=True)
    return formats.number_format(round(value), use_l10n=True)


def format_duration(ms) -> str:
    if ms is None:
        return "–"
    seconds = ms / 1000
    for limit, divisor, unit in ((60, 1, "s"), (3600, 60, "min"), (86400 * 2, 3600, "h")):
        if seconds < limit:
            return f"{formats.number_format(seconds / divisor, decimal_pos=1, use_l10n=True)} {unit}"
    return f"{formats.number_format(seconds / 86400, decimal_pos=1, use_l10n=True)} d"


def short_day(day: date) -> str:
    return day.strftime("%d.%m." if (get_language() or "de").startswith("de") else "%m/%d")


def nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


@dataclass
class Chart:
    key: str
    title: str
    unit: str = "count"
    description: str = ""
    legend: list = field(default_factory=list)
    parts: list = field(default_factory=list)  # SVG fragments, already escaped
    empty: bool = False

    def svg(self) -> SafeString:
        head = format_html(
            '<svg class="chart chart-{}" id="chart-{}" viewBox="0 0 {} {}" role="img" aria-labelledby="chart-{}-title'
            ' chart-{}-desc" xmlns="http://www.w3.org/2000/svg"><title id="chart-{}-title">{}</title>'
            '<desc id="chart-{}-desc">{}</desc>',
            self.key, self.key, WIDTH, HEIGHT, self.key, self.key, self.key, self.title, self.key, self.description)
        return mark_safe(head + "".join(self.parts) + "</svg>")

    def __html__(self) -> str:
        return self.svg()


def _y_axis(chart: Chart, top_value: float, unit: str) -> None:
    plot_height = HEIGHT - TOP - BOTTOM
    for index in range(5):
        value = top_value * index / 4
        y = TOP + plot_height - plot_height * index / 4
        chart.parts.append(format_html(
            '<line class="chart-gridline" x1="{}" x2="{}" y1="{}" y2="{}"/><text class="chart-tick" x="{}" y="{}" '
            'text-anchor="end">{}</text>', LEFT, WIDTH - RIGHT, f"{y:.1f}", f"{y:.1f}", LEFT - 6, f"{y + 4:.1f}",
            format_value(value, unit)))


def _x_axis(chart: Chart, days: list[date], x_of) -> None:
    every = max(1, math.ceil(len(days) / 8))
    for index, day in enumerate(days):
        if index % every:
            continue
        chart.parts.append(format_html('<text class="chart-tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                                       f"{x_of(index):.1f}", HEIGHT - BOTTOM + 16, short_day(day)))


def time_series(key: str, title: str, days: list[date], series: list[Series], *, unit: str = "count",
                kind: str = "line", description: str = "") -> Chart:
    """Lines (each series its own) or bars stacked per day (the series on top of each other)."""
    chart = Chart(key=key, title=title, unit=unit, description=description,
                  legend=[(index, s.label) for index, s in enumerate(series)])
    values = [v for s in series for v in s.values if v is not None]
    if kind == "bar":
        totals = [sum(s.values[i] or 0 for s in series) for i in range(len(days))]
        highest = max(totals, default=0)
    else:
        highest = max(values, default=0)
    chart.empty = not any(values)
    top_value = 1.0 if unit == "percent" else nice_ceiling(highest)
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(1, len(days))

    def x_of(index: int) -> float:
        return LEFT + slot * (index + 0.5)

    def y_of(value: float) -> float:
        return TOP + plot_height - plot_height * min(value, top_value) / top_value

    _y_axis(chart, top_value, unit)
    _x_axis(chart, days, x_of)
    if kind == "bar":
        bar_width = max(1.0, slot * 0.7)
        for index, day in enumerate(days):
            base = 0.0
            for number, s in enumerate(series):
                value = s.values[index] or 0
                if not value:
                    continue
                y_top, y_bottom = y_of(base + value), y_of(base)
                chart.parts.append(format_html(
                    '<rect class="chart-bar chart-series-{}" x="{}" y="{}" width="{}" height="{}" data-day="{}" '
                    'data-series="{}" data-value="{}"><title>{} · {}: {}</title></rect>',
                    number, f"{x_of(index) - bar_width / 2:.1f}", f"{y_top:.1f}", f"{bar_width:.1f}",
                    f"{max(0.5, y_bottom - y_top):.1f}", day.isoformat(), s.label, value,
                    formats.date_format(day, "SHORT_DATE_FORMAT"), s.label, format_value(value, unit)))
                base += value
        return chart
    for number, s in enumerate(series):
        segment: list[str] = []
        segments = []
        for index, value in enumerate(s.values):
            if value is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{x_of(index):.1f},{y_of(value):.1f}")
        if segment:
            segments.append(segment)
        for points in segments:
            chart.parts.append(format_html('<polyline class="chart-line chart-series-{}" points="{}"/>', number,
                                           " ".join(points)))
        for index, (day, value) in enumerate(zip(days, s.values)):
            if value is None:
                continue
            chart.parts.append(format_html(
                '<circle class="chart-dot chart-series-{}" cx="{}" cy="{}" r="3" data-day="{}" data-series="{}" '
                'data-value="{}"><title>{} · {}: {}</title></circle>',
                number, f"{x_of(index):.1f}", f"{y_of(value):.1f}", day.isoformat(), s.label, value,
                formats.date_format(day, "SHORT_DATE_FORMAT"), s.label, format_value(value, unit)))
    return chart


def category_bars(key: str, title: str, bars: list[Bar], *, unit: str = "count", description: str = "") -> Chart:
    """One horizontal bar per category, the largest first as given; the label left, the value right."""
    chart = Chart(key=key, title=title, unit=unit, description=description)
    chart.empty = not any(b.value for b in bars)
    if not bars:
        chart.parts.append(format_html('<text class="chart-empty" x="{}" y="{}" text-anchor="middle">{}</text>',
                                       WIDTH / 2, HEIGHT / 2, _("Nothing in this period")))
        return chart
    label_width, value_width = 260, 90
    plot_width = WIDTH - label_width - value_width
    row_height = min(28.0, (HEIGHT - 8) / len(bars))
    top_value = 1.0 if unit == "percent" else nice_ceiling(max(b.value for b in bars))
    for index, bar in enumerate(bars):
        y = 4 + row_height * index
        width = plot_width * min(bar.value, top_value) / top_value
        text = format_value(bar.value, unit) + (f" ({bar.note})" if bar.note else "")
        chart.parts.append(format_html(
            '<text class="chart-label" x="{}" y="{}" text-anchor="end">{}</text>'
            '<rect class="chart-bar chart-series-0" x="{}" y="{}" width="{}" height="{}" data-category="{}" '
            'data-value="{}"><title>{}: {}</title></rect>'
            '<text class="chart-value" x="{}" y="{}">{}</text>',
            label_width - 8, f"{y + row_height * 0.65:.1f}", _truncate(bar.label, 40), label_width, f"{y + 3:.1f}",
            f"{max(0.5, width):.1f}", f"{max(4.0, row_height - 6):.1f}", bar.label, bar.value, bar.label, text,
            label_width + width + 6, f"{y + row_height * 0.65:.1f}", text))
    return chart


def _truncate(text: str, length: int) -> str:
    text = str(text)
    return text if len(text) <= length else text[: length - 1] + "…"


def legend_html(chart: Chart) -> SafeString:
    if len(chart.legend) < 2:
        return mark_safe("")
    items = "".join(format_html('<li><span class="chart-swatch chart-series-{}"></span>{}</li>', number,
                                escape(label)) for number, label in chart.legend)
    return mark_safe(f'<ul class="chart-legend">{items}</ul>')
