"""Erlang C: how many counters a branch needs for a service level (seed §4.2.1, issue 9).

Customers arrive at random (Poisson) at `arrivals` per `interval_seconds`, each served in
`handle_seconds` on average (exponential), by `agents` counters from one queue, nobody leaving.
The offered load is A = arrivals × handle_seconds / interval_seconds erlangs.

- P(wait) (Erlang C) = N·B / (N − A·(1 − B)), with B the Erlang B blocking probability, computed
  by the recursion B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1)). No factorials or powers: it stays
  exact for hundreds of counters, where the textbook formula overflows.
- service level (share called within `target_seconds`) = 1 − P(wait)·e^(−(N − A)·t / h).
- average speed of answer (mean wait) = P(wait)·h / (N − A).

With N ≤ A the queue grows without bound: P(wait) = 1, service level 0, mean wait infinite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Never recommend more than this many counters (a bad input, not a branch).
MAX_AGENTS = 1000


@dataclass(frozen=True)
class Staffing:
    agents: int
    load: float  # offered load, erlangs
    wait_probability: float
    service_level: float
    mean_wait_seconds: float  # math.inf when agents <= load
    occupancy: float  # load / agents (1.0 when overloaded)


def offered_load(arrivals: float, handle_seconds: float, interval_seconds: float) -> float:
    if arrivals < 0 or handle_seconds <= 0 or interval_seconds <= 0:
        raise ValueError("arrivals must be >= 0; handle and interval times > 0")
    return arrivals * handle_seconds / interval_seconds


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability with `agents` servers and `load` erlangs (stable recursion)."""
    if agents < 0 or load < 0:
        raise ValueError("agents and load must be >= 0")
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def erlang_c(agents: int, load: float) -> float:
    """Probability that an arriving customer waits (1.0 when agents <= load)."""
    if agents <= load:
        return 1.0
    blocking = erlang_b(agents, load)
    return agents * blocking / (agents - load * (1.0 - blocking))


def staffing(
    agents: int,
    *,
    arrivals: float,
    handle_seconds: float,
    interval_seconds: float,
    target_seconds: float,
) -> Staffing:
    """The expected figures for `agents` counters."""
    load = offered_load(arrivals, handle_seconds, interval_seconds)
    if agents <= 0 or agents <= load:
        return Staffing(
            max(agents, 0),
            load,
            1.0,
            0.0 if load else 1.0,
            math.inf if load else 0.0,
            1.0 if load else 0.0,
        )
    wait = erlang_c(agents, load)
    level = 1.0 - wait * math.exp(-(agents - load) * target_seconds / handle_seconds)
    return Staffing(
        agents=agents,
        load=load,
        wait_probability=wait,
        service_level=level,
        mean_wait_seconds=wait * handle_seconds / (agents - load),
        occupancy=load / agents,
    )


def agents_needed(
    *,
    arrivals: float,
    handle_seconds: float,
    interval_seconds: float,
    target_seconds: float,
    level: float,
) -> Staffing:
    """The fewest counters whose service level reaches `level` (0 < level < 1), with its
    figures; no arrivals need no counter."""
    if not 0 < level < 1:
        raise ValueError("the service level target is a share between 0 and 1")
    load = offered_load(arrivals, handle_seconds, interval_seconds)
    if load == 0:
        return staffing(
            0,
            arrivals=0,
            handle_seconds=handle_seconds,
            interval_seconds=interval_seconds,
            target_seconds=target_seconds,
        )
    agents = max(1, math.floor(load) + 1)
    while agents <= MAX_AGENTS:
        result = staffing(
            agents,
            arrivals=arrivals,
            handle_seconds=handle_seconds,
            interval_seconds=interval_seconds,
            target_seconds=target_seconds,
        )
        if result.service_level >= level:
            return result
        agents += 1
    raise ValueError(f"more than {MAX_AGENTS} counters would be needed")
