"""The monthly branch report as PDF (issue 9, "Exports": a monthly branch report as PDF).

`monthly_report(principal, branch=, month=)` gathers the month's figures through the selectors
(so the principal's scope applies) and `sections(report)` turns them into titled tables of text
in the active language: the KPIs against the month before (with better/worse by each KPI's
direction), the volumes, a table per service, the daily arrivals and, as an appendix, the KPI
definitions. `render_pdf(report)` only lays those sections out with reportlab, in its built-in
CJK font (Chinese and Latin), with a bar chart of the daily arrivals.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from . import kpis
from .selectors import VIEW_KPIS, kpi_table, measure_table

PDF_FONT = "STSong-Light"  # reportlab's built-in CJK font (Adobe-GB1): Chinese and Latin

# The volumes the report counts (measures; labels in _volume_label).
VOLUMES = (
    "tickets_issued",
    "served",
    "abandoned",
    "consultations",
    "requests_finished",
    "complaints_received",
    "csat_answers",
    "callbacks_closed",
)


def _volume_label(measure: str) -> str:
    # Literal strings, so that makemessages finds them.
    labels = {
        "tickets_issued": _("Tickets issued"),
        "served": _("Customers served"),
        "abandoned": _("Left before being called"),
        "consultations": _("Consultations"),
        "requests_finished": _("Requests finished"),
        "complaints_received": _("Complaints received"),
        "csat_answers": _("Survey answers"),
        "callbacks_closed": _("Callbacks closed"),
    }
    return labels[measure]


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the month of `month`."""
    first = month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def previous_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


@dataclass
class MonthlyReport:
    branch: object  # Branch
    month: dt.date  # the first day
    generated_at: dt.datetime  # in the branch's time zone
    current: dict  # measures of the month (kpis.MEASURES, full)
    previous: dict  # measures of the month before
    values: dict  # KPI code -> value, this month
    previous_values: dict  # KPI code -> value, the month before
    services: list  # [(service code, measures, {"wait_mean": .., "service_mean": ..})]
    daily: list  # [(date, tickets issued)], every day of the month


def monthly_report(principal, *, branch, month: dt.date) -> MonthlyReport:
    """The figures of `branch` for the month of `month` and the month before (VIEW_KPIS scope:
    a branch outside it gives empty figures; the view answers 404 before that)."""
    start, end = month_bounds(month)
    before = previous_month(start)
    scope = {"branch": branch.id, "perm": VIEW_KPIS}
    by_month = {
        row.key["month"]: row
        for row in kpi_table(principal, start=before, end=end, by=("month",), **scope)
    }
    empty = kpis.empty_measures()
    current = by_month[start].measures if start in by_month else empty
    previous = by_month[before].measures if before in by_month else empty
    services = [
        (row.key["service"], row.measures, row.values)
        for row in kpi_table(
            principal,
            start=start,
            end=end,
            by=("service",),
            codes=["wait_mean", "service_mean"],
            **scope,
        )
        if row.measures["tickets_issued"] or row.measures["served"]
    ]
    arrivals = {
        row.key["day"]: row.measures["tickets_issued"]
        for row in measure_table(
            principal, start=start, end=end, by=("day",), histograms=False, **scope
        )
    }
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    return MonthlyReport(
        branch=branch,
        month=start,
        generated_at=timezone.localtime(timezone.now(), branch.zone),
        current=current,
        previous=previous,
        values=kpis.compute(current),
        previous_values=kpis.compute(previous),
        services=services,
        daily=[(day, arrivals.get(day, 0)) for day in days],
    )


def duration(seconds: float | None, *, signed: bool = False) -> str:
    """Seconds as m:ss (h:mm:ss from an hour), optionally with its sign; "—" for None."""
    if seconds is None:
        return "—"
    sign = ("-" if seconds < 0 else "+") if signed else ("-" if seconds < 0 else "")
    total = round(abs(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return sign + text


def kpi_text(kpi: kpis.Kpi, value: float | None) -> str:
    if value is None:
        return "—"
    if kpi.unit == "seconds":
        return duration(value)
    if kpi.unit == "share":
        return f"{value * 100:.1f}%"
    if kpi.unit == "per_1000":
        return f"{value:.1f}"
    return f"{value:.2f}"


def change_text(kpi: kpis.Kpi, value: float | None, previous: float | None) -> str:
    if value is None or previous is None:
        return "—"
    change = value - previous
    if kpi.unit == "seconds":
        return duration(change, signed=True)
    if kpi.unit == "share":
        return _("%(points)s points") % {"points": f"{change * 100:+.1f}"}
    if kpi.unit == "per_1000":
        return f"{change:+.1f}"
    return f"{change:+.2f}"


def verdict(kpi: kpis.Kpi, value: float | None, previous: float | None) -> str:
    """ "better", "worse" or "same" by the KPI's direction; "" without both values."""
    if value is None or previous is None:
        return ""
    if abs(value - previous) < 1e-9:
        return "same"
    higher = value > previous
    return "better" if higher == (kpi.better == "higher") else "worse"


def verdict_text(word: str) -> str:
    return {
        "better": _("better"),
        "worse": _("worse"),
        "same": _("no change"),
        "": "—",
    }[word]


@dataclass
class Section:
    title: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""


def month_label(month: dt.date) -> str:
    return formats.date_format(month, "YEAR_MONTH_FORMAT")


def title_lines(report: MonthlyReport) -> list[str]:
    branch = report.branch
    return [
        _("Monthly branch report"),
        f"{branch.name} ({branch.code})",
        month_label(report.month),
        _("Generated %(when)s") % {"when": formats.date_format(report.generated_at, "Y-m-d H:i")},
    ]


def sections(report: MonthlyReport) -> list[Section]:
    """The report's tables as text in the active language (what the PDF shows)."""
    this, before = month_label(report.month), month_label(previous_month(report.month))
    kpi_rows = []
    for kpi in kpis.KPIS:
        value, previous = report.values[kpi.code], report.previous_values[kpi.code]
        kpi_rows.append(
            [
                str(kpi.name),
                kpi_text(kpi, value),
                kpi_text(kpi, previous),
                change_text(kpi, value, previous),
                verdict_text(verdict(kpi, value, previous)),
            ]
        )
    volume_rows = [
        [
            _volume_label(measure),
            str(report.current[measure]),
            str(report.previous[measure]),
            f"{report.current[measure] - report.previous[measure]:+d}",
        ]
        for measure in VOLUMES
    ]
    service_rows = [
        [
            code or "—",
            str(measures["tickets_issued"]),
            str(measures["served"]),
            duration(values["wait_mean"]),
            duration(values["service_mean"]),
        ]
        for code, measures, values in report.services
    ]
    daily_rows = [[formats.date_format(day, "m-d"), str(count)] for day, count in report.daily]
    definitions = [
        [
            str(kpi.name),
            str(kpi.formula),
            _("higher is better") if kpi.better == "higher" else _("lower is better"),
        ]
        for kpi in kpis.KPIS
    ]
    return [
        Section(
            _("Indicators"),
            [_("Indicator"), this, before, _("Change"), _("Compared with the month before")],
            kpi_rows,
            _("Times are in minutes and seconds; — means no data."),
        ),
        Section(_("Volumes"), [_("Measure"), this, before, _("Change")], volume_rows),
        Section(
            _("By service"),
            [
                _("Service"),
                _("Tickets issued"),
                _("Served"),
                _("Waiting time, mean"),
                _("Service time, mean"),
            ],
            service_rows,
            "" if service_rows else _("No tickets this month."),
        ),
        Section(_("Arrivals per day"), [_("Day"), _("Tickets issued")], daily_rows),
        Section(
            _("Appendix: how the indicators are defined"),
            [_("Indicator"), _("Definition"), _("Direction")],
            definitions,
        ),
    ]


def filename(report: MonthlyReport) -> str:
    return f"branch-report-{report.branch.code}-{report.month:%Y-%m}.pdf"


def render_pdf(report: MonthlyReport) -> bytes:
    """The report as PDF bytes (A4), in the active language."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.lib.utils import escapeOnce
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import (
        KeepTogether,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    base = ParagraphStyle("base", fontName=PDF_FONT, fontSize=9, leading=12)
    cell = ParagraphStyle("cell", parent=base, fontSize=8, leading=10)
    title = ParagraphStyle("title", parent=base, fontSize=16, leading=22, spaceAfter=2)
    heading = ParagraphStyle("heading", parent=base, fontSize=12, leading=16, spaceBefore=10)
    small = ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor=colors.grey)
    width = A4[0] - 36 * mm

    def p(text, style=cell):
        return Paragraph(escapeOnce(str(text)), style)

    def grid(headers, rows, widths=None):
        table = Table(
            [[p(h) for h in headers]] + [[p(v) for v in row] for row in rows],
            colWidths=widths,
            repeatRows=1,
        )
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf3")),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
                ]
            )
        )
        return table

    first, *rest = title_lines(report)
    story = [p(first, title)] + [p(line, base) for line in rest[:2]] + [p(rest[2], small)]
    kpi_section, volumes, services, daily, definitions = sections(report)
    for section, widths in (
        (kpi_section, [60 * mm, 25 * mm, 25 * mm, 25 * mm, None]),
        (volumes, [60 * mm, 30 * mm, 30 * mm, 30 * mm]),
        (services, [50 * mm, 25 * mm, 25 * mm, 30 * mm, 30 * mm]),
    ):
        story += [p(section.title, heading), grid(section.headers, section.rows, widths)]
        if section.note:
            story.append(p(section.note, small))

    # Daily arrivals: a bar chart, then the numbers in four column pairs.
    chart = Drawing(width, 45 * mm)
    bars = VerticalBarChart()
    bars.x, bars.y, bars.width, bars.height = 10 * mm, 8 * mm, width - 14 * mm, 34 * mm
    bars.data = [[count for _day, count in report.daily]]
    bars.categoryAxis.categoryNames = [str(day.day) for day, _count in report.daily]
    bars.categoryAxis.labels.fontName = PDF_FONT
    bars.categoryAxis.labels.fontSize = 6
    bars.valueAxis.labels.fontName = PDF_FONT
    bars.valueAxis.labels.fontSize = 6
    bars.valueAxis.valueMin = 0
    bars.bars[0].fillColor = colors.HexColor("#2f5d8a")
    chart.add(bars)
    columns = 4
    per_column = -(-len(daily.rows) // columns)
    pairs = []
    for index in range(per_column):
        line = []
        for column in range(columns):
            position = column * per_column + index
            line += daily.rows[position] if position < len(daily.rows) else ["", ""]
        pairs.append(line)
    story += [
        KeepTogether(
            [
                p(daily.title, heading),
                chart,
                grid(daily.headers * columns, pairs),
            ]
        ),
        PageBreak(),
        p(definitions.title, heading),
        grid(definitions.headers, definitions.rows, [45 * mm, 100 * mm, None]),
        Spacer(1, 4 * mm),
    ]
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"{_('Monthly branch report')} {report.branch.name} {report.month:%Y-%m}",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
    ).build(story)
    return buffer.getvalue()
