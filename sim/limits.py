"""The bounds on what a scenario, a strategy or a command line may ask for, so that a
value too large is refused in one line before it takes the machine's memory or hours.

The README states them; the readers and the simulation check them.

>>> MAX_DURATION / (365 * 86400), MAX_SPAN / 86400
(10.0, 31.0)
"""

from __future__ import annotations

#: any duration, interval or wait written down: 10 years (also the longest wait a
#: strategy's backoff may grow to in a run)
MAX_DURATION = 10 * 365 * 86400.0
#: simulated time a run may cover: the horizon, and with clients every second up to the
#: last poll (the load is kept per second): 31 days
MAX_SPAN = 31 * 86400.0
#: jobs one run may submit (arrivals expected over the horizon, bursts, a replay)
MAX_JOBS = 1_000_000
#: step attempts one run may take, retries included (expected from the jobs, their
#: steps and the odds of a retry): what the lifecycle model spends its time and memory
#: on (200,000 attempts took 7 s and 0.4 GB; this bound, about a minute and 4 GB)
MAX_STEP_ATTEMPTS = 2_000_000
#: polls one client may make for one job; past it the strategy is refused (it would
#: poll in a loop that takes no time, or far more often than any real client)
MAX_POLLS = 1_000_000
#: polls one run may simulate one by one, in all (SimPy pollers and the direct loop,
#: for strategies that read the server's answers or a server that gives feedback;
#: each one logged as a request): about two minutes and 2 GB
MAX_SLOW_POLLS = 10_000_000
#: polls one run's fast path may count, in all (open-loop strategies against a server
#: that gives no feedback): about half a minute of its compiled loops
MAX_FAST_POLLS = 2_000_000_000
#: any other count a scenario gives: workers, a burst's jobs, a queue limit
MAX_COUNT = 1_000_000
#: attempts of one step under a retry policy
MAX_ATTEMPTS = 1_000
#: steps of one template
MAX_STEPS = 256
#: items of any array in a scenario file (rates, samples, a schedule, templates)
MAX_ITEMS = 100_000
#: levels of arrays and tables nested in a scenario file, or calls in a strategy
MAX_DEPTH = 32
#: terms of a strategy joined by ``+``, ``|`` or ``&``
MAX_TERMS = 64
#: characters of a strategy's text
MAX_STRATEGY_CHARS = 4_000
#: combinations one sweep may run
MAX_RUNS = 10_000


class LimitError(ValueError):
    """A run that would pass one of these bounds: what, and which bound."""
