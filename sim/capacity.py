"""Capacity of the status API as an M/M/c queue (Erlang C): the chance a request waits,
the quantiles of its wait and of its response time (wait plus service), and the fewest
workers that keep a quantile under a target.
The simulation checks itself against these (``tests/sim/test_queueing.py``); capacity
planners use them to size the status API for the load the model predicts.

>>> round(erlang_c(2, 1.0), 4)  # two workers, one busy on average
0.3333
>>> workers_for(100.0, 0.02, target=0.05)  # 100 requests/s of 20 ms each, p99 wait 50 ms
4
>>> workers_for(100.0, 0.02, target=0.1, of="response")  # p99 response time 100 ms
4
"""

from __future__ import annotations

import math


def erlang_c(c: int, offered: float) -> float:
    """The chance that a request waits for one of ``c`` workers when ``offered`` (arrival
    rate times mean service time) of them are busy on average; 1 where ``c`` cannot keep
    up. Computed through Erlang B, which stays stable for thousands of workers."""
    if c < 1:
        raise ValueError(f"workers must be >= 1, found {c}")
    if offered < 0:
        raise ValueError(f"offered load must be >= 0, found {offered}")
    if offered >= c:
        return 1.0
    b = 1.0
    for k in range(1, c + 1):
        b = offered * b / (k + offered * b)
    rho = offered / c
    return b / (1 - rho * (1 - b))


def wait_quantile(rate: float, mean_service: float, c: int, q: float = 0.99) -> float:
    """The ``q`` quantile of the time a request waits before a worker takes it (seconds):
    in M/M/c, P(wait > t) = C * exp(-(c/S - rate) * t). Inf where ``c`` cannot keep up."""
    if not 0 < q < 1:
        raise ValueError(f"q must be in (0, 1), found {q}")
    if mean_service <= 0:
        return 0.0
    offered = rate * mean_service
    if offered >= c:
        return math.inf
    p_wait = erlang_c(c, offered)
    if p_wait <= 1 - q:
        return 0.0
    return math.log(p_wait / (1 - q)) / (c / mean_service - rate)


def mean_wait(rate: float, mean_service: float, c: int) -> float:
    """The mean time a request waits before a worker takes it (seconds)."""
    offered = rate * mean_service
    if offered >= c:
        return math.inf
    return erlang_c(c, offered) * mean_service / (c - offered) if mean_service > 0 else 0.0


def response_over(t: float, rate: float, mean_service: float, c: int) -> float:
    """P(response time > ``t``): the wait (none with chance 1 - C, else exponential at
    ``c/S - rate``) plus an exponential service time of mean S."""
    offered = rate * mean_service
    if offered >= c:
        return 1.0
    mu, theta = 1 / mean_service, c / mean_service - rate
    p_wait = erlang_c(c, offered)
    if abs(theta - mu) < 1e-12 * mu:
        both = (1 + mu * t) * math.exp(-mu * t)  # the sum of two alike exponentials
    else:
        both = (theta * math.exp(-mu * t) - mu * math.exp(-theta * t)) / (theta - mu)
    return (1 - p_wait) * math.exp(-mu * t) + p_wait * both


def response_quantile(rate: float, mean_service: float, c: int, q: float = 0.99) -> float:
    """The ``q`` quantile of a request's response time (its wait plus its service; the
    status API's own share of what a client sees), by bisection on ``response_over``."""
    if not 0 < q < 1:
        raise ValueError(f"q must be in (0, 1), found {q}")
    if mean_service <= 0:
        return 0.0
    if rate * mean_service >= c:
        return math.inf
    lo, hi = 0.0, mean_service
    while response_over(hi, rate, mean_service, c) > 1 - q:
        lo, hi = hi, 2 * hi
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if response_over(mid, rate, mean_service, c) > 1 - q else (lo, mid)
    return hi


def workers_for(
    rate: float, mean_service: float, target: float, q: float = 0.99, of: str = "wait"
) -> int:
    """The fewest workers that keep the ``q`` quantile of the wait (``of="wait"``) or of
    the response time (``of="response"``) at or under ``target`` seconds, for ``rate``
    requests a second of ``mean_service`` seconds each. A response-time target under
    the service time's own quantile cannot be met by workers: ValueError."""
    if target < 0:
        raise ValueError(f"target must be >= 0, found {target}")
    if of not in ("wait", "response"):
        raise ValueError(f"of must be 'wait' or 'response', found {of!r}")
    quantile = wait_quantile if of == "wait" else response_quantile
    if of == "response" and -math.log(1 - q) * mean_service > target:
        raise ValueError(
            f"a p{q * 100:g} response time of {target:g} s is under the service time's own "
            f"({-math.log(1 - q) * mean_service:.3g} s): no number of workers meets it"
        )
    c = max(1, math.floor(rate * mean_service) + 1)
    while quantile(rate, mean_service, c, q) > target:
        c += 1
    return c
