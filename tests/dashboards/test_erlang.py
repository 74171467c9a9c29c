"""Erlang C against published worked examples and against its own definition."""

import math

import pytest

from dashboards.erlang import agents_needed, erlang_b, erlang_c, offered_load, staffing

# The textbook example (e.g. callcentrehelper.com's Erlang C worked example): 100 arrivals in 30
# minutes, 180 s average handling, answer 80% within 20 s.
EXAMPLE = {"arrivals": 100, "handle_seconds": 180, "interval_seconds": 1800, "target_seconds": 20}


def _erlang_c_by_formula(n: int, a: float) -> float:
    """The closed form with powers and factorials (fine for small n)."""
    top = a**n / math.factorial(n) * n / (n - a)
    bottom = sum(a**k / math.factorial(k) for k in range(n)) + top
    return top / bottom


def test_worked_example_needs_14_counters():
    result = agents_needed(**EXAMPLE, level=0.8)
    assert result.agents == 14
    assert result.load == pytest.approx(10.0)
    assert result.wait_probability == pytest.approx(0.1741, abs=5e-4)
    assert result.service_level == pytest.approx(0.8884, abs=5e-4)
    assert result.mean_wait_seconds == pytest.approx(7.84, abs=0.01)
    assert result.occupancy == pytest.approx(10 / 14)


def test_thirteen_counters_miss_the_target():
    assert staffing(13, **EXAMPLE).service_level < 0.8


@pytest.mark.parametrize(("n", "a"), [(2, 1.0), (5, 3.7), (14, 10.0), (30, 25.5)])
def test_recursion_equals_the_closed_form(n, a):
    assert erlang_c(n, a) == pytest.approx(_erlang_c_by_formula(n, a), rel=1e-12)


def test_erlang_b_known_value():
    # Erlang B with 10 erlangs on 10 servers: 0.2146 (standard tables).
    assert erlang_b(10, 10.0) == pytest.approx(0.2146, abs=1e-4)


def test_stable_for_hundreds_of_counters():
    # The closed form overflows a float here (480**500); the recursion gives a probability.
    wait = erlang_c(500, 480.0)
    assert 0 < wait < 1
    assert erlang_c(600, 480.0) < wait  # more counters, less waiting


def test_overloaded_queue_never_meets_a_target():
    result = staffing(9, **EXAMPLE)  # 10 erlangs on 9 counters
    assert result.wait_probability == 1.0
    assert result.service_level == 0.0
    assert math.isinf(result.mean_wait_seconds)


def test_no_arrivals_need_no_counter():
    result = agents_needed(**{**EXAMPLE, "arrivals": 0}, level=0.8)
    assert result.agents == 0
    assert result.service_level == 1.0


def test_higher_target_needs_at_least_as_many_counters():
    counts = [agents_needed(**EXAMPLE, level=level).agents for level in (0.5, 0.8, 0.9, 0.99)]
    assert counts == sorted(counts)
    assert counts[-1] > counts[0]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"arrivals": -1, "handle_seconds": 180, "interval_seconds": 1800},
        {"arrivals": 1, "handle_seconds": 0, "interval_seconds": 1800},
        {"arrivals": 1, "handle_seconds": 180, "interval_seconds": 0},
    ],
)
def test_bad_input_is_refused(kwargs):
    with pytest.raises(ValueError):
        offered_load(**kwargs)


def test_level_must_be_a_share():
    with pytest.raises(ValueError):
        agents_needed(**EXAMPLE, level=80)
