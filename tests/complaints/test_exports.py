"""The regulatory return (CSV streamed, XLSX) parsed back, without the complainant's personal
data, recorded as an event; and who may open the report page and download it."""

import csv
import io

import pytest
from openpyxl import load_workbook

from bankservice.events.models import Event
from complaints.exports import COLUMNS

from . import reporting_fixtures

pytestmark = pytest.mark.django_db

# The shared data set (fixtures of reporting_fixtures.py).
hq = reporting_fixtures.hq
report_set = reporting_fixtures.report_set

PAGE = "/complaints/reports/"


def query(report_set) -> dict:
    start, end = report_set["period"]
    return {"start": start.isoformat(), "end": end.isoformat()}


def csv_rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def expected(report_set) -> dict:
    """The return's rows by reference, as worked out by hand (reporting_fixtures.py)."""
    s = report_set
    staff = s["staff_cause"].code
    system = s["system_cause"].code
    return {
        s["a1"].reference: (
            "a01",
            "east",
            "card",
            "upheld",
            "upheld",
            "100.00",
            "CNY",
            "no",
            staff,
        ),
        s["a2"].reference: ("a01", "east", "card", "rejected", "rejected", "", "", "yes", staff),
        s["a3"].reference: ("a01", "east", "charges", "received", "", "", "", "pending", system),
        s["a4"].reference: ("b01", "east", "card", "received", "", "", "", "no", ""),
        s["a5"].reference: ("w01", "west", "charges", "withdrawn", "", "", "", "yes", staff),
        s["a8"].reference: ("b01", "east", "card", "withdrawn", "", "", "", "no", ""),
    }


def project(row: dict) -> tuple:
    return (
        row["branch"],
        row["region"],
        row["category"],
        row["status"],
        row["outcome"],
        row["redress"],
        row["currency"],
        row["within_deadline"],
        row["root_cause"],
    )


def test_the_csv_return_has_one_row_per_complaint_and_no_personal_data(
    client, report_set, hq, complainant
):
    client.force_login(hq)
    response = client.get(f"{PAGE}return.csv", query(report_set))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="complaints-')
    rows = csv_rows(response)
    assert list(rows[0]) == COLUMNS
    assert {row["reference"]: project(row) for row in rows} == expected(report_set)
    a1 = next(row for row in rows if row["reference"] == report_set["a1"].reference)
    assert a1["product"] == "debit"
    assert a1["channel"] == "counter"
    assert a1["regulator_category"] == report_set["a1"].category.regulator_code
    assert a1["decision_date"] != ""
    assert a1["received_date"] < a1["decision_date"]
    a2 = next(row for row in rows if row["reference"] == report_set["a2"].reference)
    assert a2["repeat"] == "yes"  # same customer and product as a1, within the repeat window
    assert a1["repeat"] == "no"

    text = ",".join(",".join(row.values()) for row in rows)
    for personal in (complainant.full_name, complainant.phone, complainant.email):
        assert personal not in text
    event = Event.objects.get(type="complaints.exported")
    assert event.actor_user == hq
    assert event.payload == {"format": "csv", **query(report_set)}


def test_the_xlsx_return_parses_back_to_the_same_rows(client, report_set, hq):
    client.force_login(hq)
    response = client.get(f"{PAGE}return.xlsx", query(report_set))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == COLUMNS
    rows = [dict(zip(COLUMNS, (v or "" for v in row), strict=True)) for row in values[1:]]
    assert {row["reference"]: project(row) for row in rows} == expected(report_set)
    assert Event.objects.filter(type="complaints.exported", payload__format="xlsx").count() == 1


def test_a_branch_manager_exports_their_branch_only(client, report_set, make_staff, branch_a):
    manager = make_staff("branch_manager", branch=branch_a, username="manager-a")
    client.force_login(manager)
    rows = csv_rows(client.get(f"{PAGE}return.csv", query(report_set)))
    assert {row["branch"] for row in rows} == {"a01"}
    assert len(rows) == 3


def test_who_may_open_the_report_and_download(client, report_set, make_staff, branch_a, teller):
    assert client.get(PAGE).status_code == 302  # to the sign-in page
    client.force_login(teller)  # takes complaints, does not report on them
    for url in (PAGE, f"{PAGE}return.csv", f"{PAGE}return.xlsx"):
        assert client.get(url, query(report_set)).status_code == 403
    assert not Event.objects.filter(type="complaints.exported").exists()

    auditor = make_staff("auditor", branch=branch_a, username="auditor-a")
    client.force_login(auditor)
    page = client.get(PAGE, query(report_set))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-row="card"' in html
    assert f"{PAGE}return.csv?" in html


def test_a_wrong_period_is_refused_with_the_reason(client, hq):
    client.force_login(hq)
    backwards = client.get(PAGE, {"start": "2026-03-01", "end": "2026-02-01"})
    assert backwards.status_code == 400
    assert "The period ends before it starts." in backwards.content.decode()
    too_long = client.get(f"{PAGE}return.csv", {"start": "2020-01-01", "end": "2026-01-01"})
    assert too_long.status_code == 400
    assert not Event.objects.filter(type="complaints.exported").exists()
    garbage = client.get(PAGE, {"start": "soon", "end": "later"})
    assert garbage.status_code == 400


def test_the_report_page_costs_fixed_queries(client, report_set, hq, django_assert_num_queries):
    client.force_login(hq)
    client.get(PAGE, query(report_set))
    # user, memberships, pareto, without a cause, breakdown, completed actions
    with django_assert_num_queries(6):
        page = client.get(PAGE, {**query(report_set), "dimension": "region"})
    assert page.status_code == 200
    assert 'data-row="east"' in page.content.decode()
