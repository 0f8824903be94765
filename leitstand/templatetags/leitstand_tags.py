from django import template

from leitstand.charts import Chart, format_duration, format_value, legend_html

register = template.Library()


@register.filter
def percent(value) -> str:
    return format_value(value, "percent")


@register.filter
def duration(ms) -> str:
    return format_duration(ms)


@register.filter
def chart_legend(chart: Chart):
    return legend_html(chart)
