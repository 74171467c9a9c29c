"""Every dashboards table as CSV or Excel: `table_response` (issue 9: "every table as CSV and XLSX").

A page builds its table once (headers and rows of plain values) and calls

    response = table_response(request, filename="overview", headers=headers, rows=rows)
    if response is not None:
        return response

which answers `?export=csv` or `?export=xlsx` with the file, and returns None otherwise (the page
renders as usual). Numbers stay numbers (a spreadsheet can sum them); None is an empty cell;
dates are dates in Excel and ISO dates in CSV. The CSV starts with a byte-order mark, so Excel
reads Chinese names as UTF-8. Each download is recorded as a ``dashboards.exported`` event (who,
which table, which filters) before the file is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.http import HttpResponse
from openpyxl import Workbook

from bankservice.events.services import record

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EVENT_TYPE = "dashboards.exported"
# Excel refuses sheet titles longer than 31 characters or with any of []:*?/\ in them.
_SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\]")


def export_format(request) -> str | None:
    """ "csv" or "xlsx" when the request asks for a download, else None."""
    value = request.GET.get("export")
    return value if value in FORMATS else None


def record_export(request, *, fmt: str, filename: str, rows: int | None = None) -> None:
    """Record that `request.user` downloaded a dashboards table (the audit trail shows it)."""
    query = {key: value for key, value in request.GET.items() if key != "export"}
    payload = {"format": fmt, "file": filename, "path": request.path, "query": query}
    if rows is not None:
        payload["rows"] = rows
    with transaction.atomic():
        record(type=EVENT_TYPE, actor=request.user, payload=payload)


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def csv_bytes(headers: Sequence, rows: Iterable[Sequence]) -> bytes:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # a byte-order mark: spreadsheets then read the file as UTF-8
    writer = csv.writer(buffer)
    writer.writerow([str(header) for header in headers])
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def _xlsx_cell(value):
    if isinstance(value, bool | int | float | dt.date | dt.datetime) or value is None:
        return value
    return str(value)


def xlsx_bytes(headers: Sequence, rows: Iterable[Sequence], *, title: str = "table") -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_SHEET_UNSAFE.sub("-", title)[:31] or "table")
    sheet.append([str(header) for header in headers])
    for row in rows:
        sheet.append([_xlsx_cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table_response(request, *, filename: str, headers: Sequence, rows: Iterable[Sequence]):
    """The table as a CSV or XLSX download when `?export=csv|xlsx`, else None.

    `filename` is the file's name without its extension (ASCII: "overview-20260101-20260131");
    `headers` the column titles (lazy translations welcome); `rows` lists of plain values."""
    fmt = export_format(request)
    if fmt is None:
        return None
    rows = [list(row) for row in rows]
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", filename).strip("-") or "table"
    name = f"{base}.{fmt}"
    record_export(request, fmt=fmt, filename=name, rows=len(rows))
    if fmt == "csv":
        response = HttpResponse(csv_bytes(headers, rows), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(xlsx_bytes(headers, rows, title=base), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
