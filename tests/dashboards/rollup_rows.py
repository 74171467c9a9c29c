"""Hand-built rollup rows for the dashboards' tests, written the way rollups.rollup_day writes
them: a StaffDayRollup row (by staff member), added into its day's DayRollup row (by branch and
service), so pages by staff and pages without agree."""

from dashboards.models import SCALAR_FIELDS, DayRollup, StaffDayRollup


def day_rollup(*, day, branch, service="", staff=None, histograms=None, **measures):
    """The StaffDayRollup row; its measures are also added to the (day, branch, service) row."""
    histograms = histograms or {}
    row = StaffDayRollup.objects.create(
        day=day, branch=branch, service=service, staff=staff, histograms=histograms, **measures
    )
    total, _created = DayRollup.objects.get_or_create(day=day, branch=branch, service=service)
    for name in SCALAR_FIELDS:
        setattr(total, name, getattr(total, name) + getattr(row, name))
    for name, buckets in histograms.items():
        summed = total.histograms.setdefault(name, {})
        for index, count in buckets.items():
            summed[str(index)] = summed.get(str(index), 0) + count
    total.save()
    return row
