"""KPI formulas over measures built by hand, and the histogram percentiles."""

import pytest

from bankservice.core.measures import BUCKET_SECONDS, BUCKETS, bucket
from dashboards.kpis import (
    KPI_BY_CODE,
    KPIS,
    MEASURES,
    add_measures,
    compute,
    empty_measures,
    percentile,
)


def _waits(*seconds):
    measures = empty_measures()
    for value in seconds:
        measures["wait_histogram"][bucket(value)] += 1
        measures["wait_seconds"] += value
        measures["tickets_called"] += 1
    return measures


def test_every_kpi_is_documented_and_uses_known_measures():
    assert len(KPI_BY_CODE) == len(KPIS)
    for kpi in KPIS:
        assert str(kpi.name) and len(str(kpi.formula)) > 20
        assert set(kpi.needs) <= set(MEASURES)
        assert kpi.better in {"higher", "lower"}


def test_no_data_gives_no_value_rather_than_zero():
    assert set(compute(empty_measures()).values()) == {None}


def test_waiting_times_by_hand():
    # Waits of 1, 2, 3, 4 and 20 minutes: mean 6 min; the median is in the 180-210 s bucket,
    # the 90th percentile in the 1200-1230 s bucket.
    values = compute(_waits(60, 120, 180, 240, 1200), ["wait_mean", "wait_median", "wait_p90"])
    assert values == {"wait_mean": 360.0, "wait_median": 210.0, "wait_p90": 1230.0}


def test_percentile_is_exact_to_the_bucket():
    histogram = [0] * BUCKETS
    histogram[bucket(95)] = 1  # 90-120 s
    assert percentile(histogram, 0.5) == 120.0
    assert percentile([0] * BUCKETS, 0.5) is None
    histogram[bucket(10**6)] += 1  # beyond the histogram: the open last bucket
    assert percentile(histogram, 1.0) == BUCKETS * BUCKET_SECONDS


def test_rates_and_scores_by_hand():
    measures = empty_measures()
    measures.update(
        tickets_issued=50,
        tickets_called=40,
        within_target=30,
        abandoned=10,
        no_show=4,
        served=36,
        service_seconds=36 * 300,
        csat_answers=5,
        csat_sum=19,
        csat_satisfied=4,
        nps_answers=10,
        nps_promoters=5,
        nps_detractors=2,
        complaints_received=2,
        complaints_closed=4,
        complaints_within_deadline=3,
        callbacks_closed=8,
        callbacks_done=6,
        counter_open_seconds=8 * 3600,
        counter_busy_seconds=6 * 3600,
        consultations=10,
        first_contact_resolved=7,
        requests_finished=20,
        requests_reworked=3,
    )
    values = compute(measures)
    assert values["service_level"] == pytest.approx(30 / 50)
    assert values["abandonment_rate"] == pytest.approx(10 / 50)
    assert values["no_show_rate"] == pytest.approx(4 / 40)
    assert values["service_mean"] == 300
    assert values["csat_mean"] == pytest.approx(3.8)
    assert values["csat_satisfied"] == pytest.approx(0.8)
    assert values["nps"] == pytest.approx(30.0)
    assert values["complaint_rate"] == pytest.approx(2 / 36 * 1000)
    assert values["complaints_within_deadline"] == 0.75
    assert values["callback_completion"] == 0.75
    assert values["counter_utilisation"] == 0.75
    assert values["first_contact_resolution"] == 0.7
    assert values["rework_rate"] == 0.15


def test_measures_add_up_so_rollups_equal_the_whole():
    morning, afternoon = _waits(30, 600), _waits(90, 95, 3000)
    total = add_measures(add_measures(empty_measures(), morning), afternoon)
    assert compute(total) == compute(_waits(30, 600, 90, 95, 3000))
