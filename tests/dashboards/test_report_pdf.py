"""The monthly branch report: its figures on hand-built rollup rows (this month against the one
before, better or worse by each KPI's direction), the sections the PDF lays out, the download
(a PDF, recorded), the branch scope (404), a bad month (400), and the picker.

pypdf and pdftotext are not installed, so the PDF's text is checked through `sections()`, which
is exactly what `render_pdf` lays out."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from bankservice.branches.models import Role
from bankservice.events.models import Event
from dashboards import report_pdf
from tests.dashboards.rollup_rows import day_rollup

pytestmark = pytest.mark.django_db
URL = "dashboards:monthly_report"


@pytest.fixture
def rollups(branch_a, branch_b):
    # October 2026 at A: cash on the 5th (10 issued, 8 called waiting 300 s each, 6 in time,
    # 2 left; 8 served at 240 s; 4 answers summing 18), loans on the 20th (2 issued and called
    # at 600 s, 2 served at 900 s).
    day_rollup(
        day=dt.date(2026, 10, 5),
        branch=branch_a,
        service="cash",
        tickets_issued=10,
        tickets_called=8,
        wait_seconds=2400,
        within_target=6,
        abandoned=2,
        served=8,
        service_seconds=1920,
        csat_answers=4,
        csat_sum=18,
    )
    day_rollup(
        day=dt.date(2026, 10, 20),
        branch=branch_a,
        service="loans",
        tickets_issued=2,
        tickets_called=2,
        wait_seconds=1200,
        within_target=0,
        served=2,
        service_seconds=1800,
    )
    # September at A: 5 cash, waiting 240 s each, all in time, served at 300 s; no surveys.
    day_rollup(
        day=dt.date(2026, 9, 10),
        branch=branch_a,
        service="cash",
        tickets_issued=5,
        tickets_called=5,
        wait_seconds=1200,
        within_target=5,
        served=5,
        service_seconds=1500,
    )
    # Branch B in October: never in A's report.
    day_rollup(
        day=dt.date(2026, 10, 5), branch=branch_b, service="cash", tickets_issued=500, served=400
    )


@pytest.fixture
def manager(make_staff, branch_a):
    return make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="manager-a")


def _section(sections, title):
    return next(section for section in sections if section.title == title)


def test_the_months_figures_against_the_month_before(rollups, manager, branch_a):
    report = report_pdf.monthly_report(manager, branch=branch_a, month=dt.date(2026, 10, 17))
    assert report.month == dt.date(2026, 10, 1)
    # Waiting: October (2400 + 1200) / 10 = 360 s; September 1200 / 5 = 240 s.
    assert report.values["wait_mean"] == pytest.approx(360.0)
    assert report.previous_values["wait_mean"] == pytest.approx(240.0)
    # Service level: October 6 / (10 called + 2 left) = 0.5; September 5 / 5 = 1.0.
    assert report.values["service_level"] == pytest.approx(0.5)
    assert report.previous_values["service_level"] == pytest.approx(1.0)
    assert report.current["tickets_issued"] == 12  # B's 500 left out
    assert report.previous["served"] == 5
    assert [(code, values["wait_mean"]) for code, _m, values in report.services] == [
        ("cash", 300.0),  # 2400 / 8
        ("loans", 600.0),  # 1200 / 2
    ]
    assert len(report.daily) == 31
    assert report.daily[4] == (dt.date(2026, 10, 5), 10)
    assert report.daily[19] == (dt.date(2026, 10, 20), 2)
    assert sum(count for _day, count in report.daily) == 12


def test_the_sections_the_pdf_shows(rollups, manager, branch_a):
    report = report_pdf.monthly_report(manager, branch=branch_a, month=dt.date(2026, 10, 1))
    lines = report_pdf.title_lines(report)
    assert lines[:3] == ["Monthly branch report", "Branch A (a01)", "October 2026"]

    sections = report_pdf.sections(report)
    indicators = _section(sections, "Indicators")
    assert indicators.headers[1:3] == ["October 2026", "September 2026"]
    by_name = {row[0]: row[1:] for row in indicators.rows}
    # Waiting 6:00 against 4:00: two minutes longer, worse (lower is better).
    assert by_name["Waiting time, mean"] == ["6:00", "4:00", "+2:00", "worse"]
    # Service time: (1920 + 1800) / 10 = 372 s = 6:12 against 1500 / 5 = 300 s = 5:00.
    assert by_name["Service time, mean"] == ["6:12", "5:00", "+1:12", "worse"]
    assert by_name["Service level"] == ["50.0%", "100.0%", "-50.0 points", "worse"]
    # CSAT 18 / 4 = 4.5; no answers in September: no comparison.
    assert by_name["Satisfaction (CSAT), mean"] == ["4.50", "—", "—", "—"]
    # Abandonment 2 / 12 = 16.7% against 0 / 5.
    assert by_name["Abandonment rate"] == ["16.7%", "0.0%", "+16.7 points", "worse"]

    volumes = {row[0]: row[1:] for row in _section(sections, "Volumes").rows}
    assert volumes["Tickets issued"] == ["12", "5", "+7"]
    assert volumes["Customers served"] == ["10", "5", "+5"]

    services = _section(sections, "By service").rows
    assert services == [["cash", "10", "8", "5:00", "4:00"], ["loans", "2", "2", "10:00", "15:00"]]
    daily = _section(sections, "Arrivals per day").rows
    assert daily[4] == ["10-05", "10"] and daily[0] == ["10-01", "0"]
    appendix = _section(sections, "Appendix: how the indicators are defined")
    definitions = {row[0]: row[2] for row in appendix.rows}
    assert definitions["Service level"] == "higher is better"
    assert definitions["Waiting time, mean"] == "lower is better"
    assert len(appendix.rows) == len(report.values)


def test_the_report_in_chinese(rollups, manager, branch_a):
    report = report_pdf.monthly_report(manager, branch=branch_a, month=dt.date(2026, 10, 1))
    with translation.override("zh-hans"):
        lines = report_pdf.title_lines(report)
        assert lines[2] == "2026年10月"
        pdf = report_pdf.render_pdf(report)
    assert pdf.startswith(b"%PDF-")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_download_is_a_recorded_pdf(
    client, rollups, manager, branch_a, language, django_assert_num_queries
):
    client.force_login(manager)
    query = {"branch": branch_a.id, "month": "2026-10"}
    client.get(reverse(URL))  # warm the session
    # user, memberships' permissions, the form's branch ids and branches (the one asked for
    # among them), then per table (by month, by service, by day) the scoped branch ids and the
    # sums (+ the histograms by month: the percentile KPIs), and the event (savepoint, insert,
    # release): 2 + 2 + 3 x 2 + 1 + 3 = 14.
    with django_assert_num_queries(14):
        response = client.get(reverse(URL), query, HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert b"STSong-Light" in response.content  # the CJK font, for the Chinese text
    assert response["Content-Disposition"] == (
        'attachment; filename="branch-report-a01-2026-10.pdf"'
    )
    assert response["Content-Language"] == language
    event = Event.objects.get(type="dashboards.exported")
    assert event.branch_id == branch_a.id
    assert event.payload["format"] == "pdf"
    assert event.payload["query"] == {"branch": branch_a.id, "month": "2026-10"}


def test_a_branch_outside_the_scope_is_not_found(client, rollups, manager, branch_b):
    client.force_login(manager)
    response = client.get(reverse(URL), {"branch": branch_b.id, "month": "2026-10"})
    assert response.status_code == 404
    assert client.get(reverse(URL), {"branch": 999999, "month": "2026-10"}).status_code == 404
    assert not Event.objects.filter(type="dashboards.exported").exists()


@pytest.mark.parametrize(
    "month", ["2026-13", "October", "2026-10-01", "", "1899-01"], ids=lambda m: m or "empty"
)
def test_a_bad_month_is_a_form_error(client, rollups, manager, branch_a, month):
    client.force_login(manager)
    response = client.get(reverse(URL), {"branch": branch_a.id, "month": month})
    assert response.status_code == 400
    assert "month" in response.context["form"].errors
    bad_branch = client.get(reverse(URL), {"branch": "A", "month": "2026-10"})
    assert bad_branch.status_code == 400
    assert "branch" in bad_branch.context["form"].errors


def test_the_picker_and_who_may_download(client, rollups, manager, make_staff, branch_a, teller):
    client.force_login(manager)
    picker = client.get(reverse(URL))
    assert picker.status_code == 200
    html = picker.content.decode()
    assert 'id="monthly-report-form"' in html
    assert f'<option value="{branch_a.id}" selected>Branch A (a01)</option>' in html
    assert "Branch B" not in html
    # The staff page's link names the branch filtered on: preselected, no PDF yet (no month).
    prefilled = client.get(reverse(URL), {"branch": branch_a.id})
    assert prefilled.status_code == 200
    assert prefilled.context["form"].initial["branch"] == branch_a.id
    # An auditor sees KPIs (not staff performance): the report is theirs too.
    client.force_login(make_staff(Role.AUDITOR, branch=branch_a))
    query = {"branch": branch_a.id, "month": "2026-10"}
    assert client.get(reverse(URL), query)["Content-Type"] == "application/pdf"
    client.force_login(teller)
    assert client.get(reverse(URL), query).status_code == 403
