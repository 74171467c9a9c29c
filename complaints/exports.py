"""The regulatory return: one row per complaint received in a period, as CSV or XLSX.

No personal data of the complainant (no name, contact, customer id, description): what the
regulators' returns count — where, what about, through which channel, how it ended, whether on
time. Dates are the branch's local dates. Each export is recorded (``complaints.exported``) by
the view before the file is written (report_views.py).
"""

import csv
import datetime as dt
import io
import zoneinfo

from openpyxl import Workbook

from .models import DECIDED_STATUSES, Jurisdiction
from .reporting import period_complaints
from .selectors import deadline_outcome, with_deadline_outcome

COLUMNS = [
    "reference",
    "received_date",
    "branch",
    "region",
    "category",
    "regulator_category",
    "subcategory",
    "product",
    "channel",
    "status",
    "decision_date",
    "outcome",
    "redress",
    "currency",
    "within_deadline",
    "repeat",
    "root_cause",
]
# The currency a redress is paid in when the complaint named no amount in dispute.
HOME_CURRENCY = {Jurisdiction.CN: "CNY", Jurisdiction.UK: "GBP", Jurisdiction.US: "USD"}
_WITHIN = {"within": "yes", "late": "no", "pending": "pending"}
CHUNK = 2000


def return_rows(principal, start: dt.date, end: dt.date, *, now=None):
    """The return's rows (lists, COLUMNS order), reading the database in chunks."""
    complaints = (
        with_deadline_outcome(period_complaints(principal, start, end), now=now)
        .select_related("branch__region", "root_cause")
        .order_by("received_at", "id")
    )
    for complaint in complaints.iterator(chunk_size=CHUNK):
        yield _row(complaint)


def _row(complaint) -> list:
    zone = zoneinfo.ZoneInfo(complaint.branch.time_zone)
    decided = complaint.status in DECIDED_STATUSES
    currency = ""
    if complaint.redress_amount is not None:
        currency = complaint.currency or HOME_CURRENCY.get(complaint.pack.jurisdiction, "")
    return [
        complaint.reference,
        complaint.received_at.astimezone(zone).date().isoformat(),
        complaint.branch.code,
        complaint.branch.region.code,
        complaint.category.code,
        complaint.category.regulator_code,
        complaint.subcategory.code if complaint.subcategory else "",
        complaint.product.code if complaint.product else "",
        complaint.channel,
        complaint.status,
        complaint.decided_at.astimezone(zone).date().isoformat() if complaint.decided_at else "",
        complaint.status if decided else "",
        f"{complaint.redress_amount:.2f}" if complaint.redress_amount is not None else "",
        currency,
        _WITHIN[deadline_outcome(complaint)],
        "yes" if complaint.is_repeat else "no",
        complaint.root_cause.code if complaint.root_cause else "",
    ]


class _Echo:
    """A file-like that hands back what the CSV writer writes (for streaming)."""

    def write(self, value):
        return value


def csv_lines(rows):
    """The header and the rows as CSV lines, one at a time (StreamingHttpResponse)."""
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a byte-order mark: spreadsheets then read the file as UTF-8
    yield writer.writerow(COLUMNS)
    for row in rows:
        yield writer.writerow(row)


def xlsx_bytes(rows) -> bytes:
    """The header and the rows as one worksheet (openpyxl's write-only mode keeps memory flat)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("complaints")
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
