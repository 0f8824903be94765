"""What the Leitstand shows of a report: the charts (leitstand.charts) and the CSV rows, built from the same
series so that the download says exactly what the charts draw."""
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leitstand.charts import Bar, Chart, Series, category_bars, time_series
from leitstand.selectors import Report

# Confidence bands shown: the tenths added up into four groups.
CONFIDENCE_GROUPS = ((0, 5, gettext_lazy("below 0.5")), (5, 7, gettext_lazy("0.5 to 0.7")),
                     (7, 9, gettext_lazy("0.7 to 0.9")), (9, 10, gettext_lazy("0.9 and above")))


def _share(value):
    return None if value is None else round(value, 4)


@dataclass(frozen=True)
class Column:
    key: str  # the CSV column
    label: str
    read: Callable[[dict], Any]  # day figures -> value


def _band_share(low: int, high: int):
    def read(figures):
        shares = figures.get("confidence_shares")
        return None if shares is None else round(sum(shares[low:high]), 4)
    return read


def columns() -> list[Column]:
    """Every per-day series of the Leitstand, in the CSV's column order."""
    fixed = [
        Column("received", _("Received"), lambda f: f["received"]),
        Column("applied_auto", _("Applied automatically"), lambda f: f["applied_auto"]),
        Column("applied_manual", _("Applied after review"), lambda f: f["applied_manual"]),
        Column("rejected", _("Rejected"), lambda f: f["rejected"]),
        Column("auto_share", _("Share applied automatically"), lambda f: _share(f["auto_share"])),
        Column("decisions", _("Review decisions"), lambda f: f["decisions"]),
        Column("corrected", _("Decisions with a correction"), lambda f: f["corrected"]),
        Column("correction_rate", _("Correction rate"), lambda f: _share(f["correction_rate"])),
        Column("escalations", _("Escalations"), lambda f: f["escalations"]),
        Column("failed", _("Runs failed for good"), lambda f: f["failed"]),
        Column("latency_p50_ms", _("Time to result, median"), lambda f: f["latency_p50_ms"]),
        Column("latency_p95_ms", _("Time to result, 95th percentile"), lambda f: f["latency_p95_ms"]),
        Column("processing_p50_ms", _("Processing time, median"), lambda f: f.get("processing_p50_ms")),
        Column("processing_p95_ms", _("Processing time, 95th percentile"), lambda f: f.get("processing_p95_ms")),
        Column("backlog", _("Open review tasks at day's end"), lambda f: f["backlog"]),
        Column("sla_breaches", _("SLA breaches"), lambda f: f["sla_breaches"]),
        Column("suggestions", _("Suggestions"), lambda f: f["suggestions"]),
        Column("confidence_mean", _("Mean confidence"), lambda f: _share(f["confidence_mean"])),
    ]
    bands = [Column(f"confidence_share_{low}_{high}", str(label), _band_share(low, high))
             for low, high, label in CONFIDENCE_GROUPS]
    deliveries = [
        Column("delivery_failures", _("Failed delivery attempts"), lambda f: f["delivery_failures"]),
        Column("deliveries_dead", _("Dead letters"), lambda f: f["deliveries_dead"]),
        Column("delivered", _("Delivered"), lambda f: f["delivered"]),
    ]
    return fixed + bands + deliveries


def series(report: Report) -> dict[str, list]:
    """{column key: one value a day}"""
    return {column.key: [column.read(day.figures) for day in report.days] for column in columns()}


def charts(report: Report) -> list[Chart]:
    days = [day.day for day in report.days]
    values = series(report)
    labels = {column.key: column.label for column in columns()}

    def s(*keys):
        return [Series(labels[key], values[key]) for key in keys]

    bands = [f"confidence_share_{low}_{high}" for low, high, _label in CONFIDENCE_GROUPS]
    return [
        time_series("volume", _("Volume per day"), days, s("received"), kind="bar",
                    description=_("Items received per day.")),
        time_series("outcome", _("Results per day"), days, s("applied_auto", "applied_manual", "rejected"),
                    kind="bar", description=_("Items that became final: applied automatically, applied after a "
                                              "review, rejected.")),
        time_series("rates", _("Automatic share and correction rate"), days, s("auto_share", "correction_rate"),
                    unit="percent", description=_("Share of the final items applied without a person; share of the "
                                                  "review decisions that corrected a suggestion.")),
        category_bars("fields", _("Correction rate per field"),
                      [Bar(f["label"], round(f["rate"], 4), f"{f['corrected']}/{f['reviewed']}")
                       for f in report.fields], unit="percent",
                      description=_("How often clerks changed a field's suggestion, of the decisions that saw it.")),
        time_series("problems", _("Escalations and failures per day"), days, s("escalations", "failed"), kind="bar",
                    description=_("Escalations raised, and runs that failed after their last attempt.")),
        category_bars("steps", _("Failures by pipeline step"),
                      [Bar(step["label"], step["failed"]) for step in report.steps],
                      description=_("Failed step runs (attempts included): where workflows break.")),
        time_series("latency", _("Time to result"), days, s("latency_p50_ms", "latency_p95_ms"), unit="ms",
                    description=_("From receipt to the final result: median and 95th percentile per day.")),
        time_series("backlog", _("Review backlog and SLA breaches"), days, s("backlog", "sla_breaches"),
                    description=_("Open review tasks at the end of each day; tasks not done by their due time.")),
        time_series("confidence", _("Confidence distribution over time"), days, s(*bands), unit="percent",
                    kind="bar", description=_("Share of the suggestions in each confidence band per day: a shift "
                                              "to lower bands shows drift.")),
        time_series("deliveries", _("Delivery failures"), days, s("delivery_failures", "deliveries_dead"),
                    kind="bar", description=_("Failed attempts to deliver results to target systems, and deliveries "
                                              "given up (dead letters).")),
    ]


def csv_rows(report: Report) -> list[list]:
    cols = columns()
    rows = [["day", *(column.key for column in cols)]]
    for day in report.days:
        rows.append([day.day.isoformat(), *("" if (v := column.read(day.figures)) is None else v for column in cols)])
    return rows


def csv_field_rows(report: Report) -> list[list]:
    rows = [["use_case", "field", "corrected", "reviewed", "correction_rate"]]
    rows += [[f["use_case"].key, f["field"], f["corrected"], f["reviewed"], round(f["rate"], 4)] for f in report.fields]
    rows += [[], ["step", "failed"]] + [[step["step"], step["failed"]] for step in report.steps]
    return rows
