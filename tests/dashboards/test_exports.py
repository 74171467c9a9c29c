"""The dashboards' shared export (dashboards/exports.py) and the pages' downloads.

CSV with a byte-order mark (Excel reads Chinese names), XLSX through openpyxl; numbers stay
numbers; every download is recorded as a dashboards.exported event.
"""

import csv
import datetime as dt
import io
import re
from html import unescape

import pytest
from django.test import RequestFactory
from django.urls import reverse
from openpyxl import load_workbook

from bankservice.branches.models import Role
from bankservice.events.models import Event
from dashboards.exports import table_response
from tests.dashboards.test_pages import PERIOD, clerk, day_row, figures  # noqa: F401 (fixtures)

OVERVIEW = reverse("dashboards:overview")
TRENDS = reverse("dashboards:trends")
HEADERS = ["分行", "Tickets", "Wait (s)", "Day"]
ROWS = [
    ["陆家嘴支行", 12, 95.5, dt.date(2026, 11, 2)],
    ["Branch B", 0, None, dt.date(2026, 11, 3)],
]


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())  # the byte-order mark
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def read_xlsx(content: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


@pytest.fixture
def get(make_staff, branch_a):
    manager = make_staff(Role.BRANCH_MANAGER, branch=branch_a)

    def make(query):
        request = RequestFactory().get("/dashboards/somewhere/", query)
        request.user = manager
        return request

    return make


def test_csv_keeps_chinese_and_numbers(get):
    response = table_response(
        get({"export": "csv"}), filename="my table", headers=HEADERS, rows=ROWS
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="my-table.csv"'
    assert read_csv(response.content) == [
        HEADERS,
        ["陆家嘴支行", "12", "95.5", "2026-11-02"],
        ["Branch B", "0", "", "2026-11-03"],
    ]


def test_xlsx_cells_are_numbers_and_dates(get):
    request = get({"export": "xlsx", "start": "2026-11-01"})
    response = table_response(request, filename="t", headers=HEADERS, rows=ROWS)
    assert response["Content-Disposition"] == 'attachment; filename="t.xlsx"'
    header, first, second = read_xlsx(response.content)
    assert header == tuple(HEADERS)
    assert first[:3] == ("陆家嘴支行", 12, 95.5)
    assert first[3].date() == dt.date(2026, 11, 2)
    assert second[:3] == ("Branch B", 0, None)


def test_each_download_is_recorded(get):
    table_response(get({"export": "csv", "branch": "7"}), filename="t", headers=HEADERS, rows=ROWS)
    event = Event.objects.get(type="dashboards.exported")
    assert event.payload == {
        "format": "csv",
        "file": "t.csv",
        "path": "/dashboards/somewhere/",
        "query": {"branch": "7"},
        "rows": 2,
    }


@pytest.mark.parametrize("query", [{}, {"export": "pdf"}, {"export": ""}])
def test_no_download_without_a_known_format(get, query):
    assert table_response(get(query), filename="t", headers=HEADERS, rows=ROWS) is None
    assert not Event.objects.filter(type="dashboards.exported").exists()


# --- The pages' downloads


def test_overview_csv_has_the_table_as_numbers(
    client,
    make_staff,
    region,
    branch_a,
    branch_b,
    figures,  # noqa: F811
):
    client.force_login(make_staff(Role.REGIONAL_MANAGER, region=region))
    response = client.get(OVERVIEW, {**PERIOD, "by": "branch", "export": "csv"})
    assert response["Content-Disposition"] == (
        'attachment; filename="kpi-overview-branch-20261101-20261130.csv"'
    )
    header, *rows = read_csv(response.content)
    assert header[:4] == ["Branch", "Tickets", "Surveys answered", "Waiting time, mean (s)"]
    assert "Service level (%)" in header
    column = {name: index for index, name in enumerate(header)}
    table = {row[0]: row for row in rows}
    assert list(table) == ["Branch A", "Branch B", "Total"]
    # Waits 100 s, 400 s, 200 s; service level 60%, 20%, 7/15 = 46.67%; B has no CSAT.
    wait, level = column["Waiting time, mean (s)"], column["Service level (%)"]
    csat = column["Satisfaction (CSAT), mean"]
    assert [table[name][wait] for name in table] == ["100.0", "400.0", "200.0"]
    assert [table[name][level] for name in table] == ["60.0", "20.0", "46.67"]
    assert [table[name][csat] for name in table] == ["4.5", "", "4.5"]
    assert [table[name][1] for name in table] == ["10", "5", "15"]
    event = Event.objects.get(type="dashboards.exported")
    assert event.payload["query"] == {**PERIOD, "by": "branch"}
    assert event.payload["path"] == OVERVIEW


def test_overview_xlsx_parses(client, make_staff, branch_a, figures):  # noqa: F811
    client.force_login(make_staff(Role.BRANCH_MANAGER, branch=branch_a))
    response = client.get(OVERVIEW, {**PERIOD, "by": "service", "export": "xlsx"})
    header, cash, total = read_xlsx(response.content)
    assert header[0] == "Service"
    assert cash[:4] == ("cash", 10, 4, 100.0)
    assert total[:4] == ("Total", 10, 4, 100.0)
    assert Event.objects.filter(type="dashboards.exported", payload__format="xlsx").count() == 1


def test_trend_csv_has_one_row_per_line(
    client,
    make_staff,
    region,
    branch_a,
    branch_b,
    figures,  # noqa: F811
):
    client.force_login(make_staff(Role.REGIONAL_MANAGER, region=region))
    query = {"start": "2026-11-01", "end": "2026-11-03", "split": "on", "export": "csv"}
    header, *rows = read_csv(client.get(TRENDS, query).content)
    assert header == ["Branch / Waiting time, mean (s)", "2026-11-01", "2026-11-02", "2026-11-03"]
    assert rows == [
        ["All in my scope", "", "200.0", ""],
        ["Branch A", "", "100.0", ""],
        ["Branch B", "", "400.0", ""],
    ]


@pytest.mark.parametrize("page", [OVERVIEW, TRENDS])
def test_download_links_keep_the_filters(client, make_staff, branch_a, figures, page):  # noqa: F811
    client.force_login(make_staff(Role.BRANCH_MANAGER, branch=branch_a))
    html = client.get(page, {**PERIOD, "branch": branch_a.id}).content.decode()
    for fmt in ("csv", "xlsx"):
        link = unescape(re.search(rf'href="([^"]+)" download data-export="{fmt}"', html).group(1))
        assert f"start={PERIOD['start']}" in link and f"branch={branch_a.id}" in link
        assert link.endswith(f"export={fmt}")
        assert client.get(link)["Content-Disposition"].endswith(f'.{fmt}"')
