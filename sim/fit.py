"""Infer a client's polling strategy from its requests: ``fit(requests)``.

QA measures one real client against the server; planners need its strategy to simulate a
million of them. From the requests one client made per job (``sim.fit_data``), this
finds the first poll's delay, the wait family and its parameters (``sim.fit_waits``),
per-status waits where the answers show states, whether Retry-After is honoured, what
the client does after an error answer, and its stop (``sim.fit_stops``), and gives the
strategy's text form, which ``pollsim simulate --strategy`` takes. A client whose waits
fit no family is reported as such, with its waits' quantiles: never forced into one.

>>> import pandas as pd
>>> rows = [(job, 3.0 * k, "running" if k < 5 + job % 7 else "succeeded")
...         for job in range(20) for k in range(1, 6 + job % 7)]
>>> df = pd.DataFrame(rows, columns=["job_id", "t", "state"])
>>> df["http_status"], df["start"] = 200, 0.0
>>> result = fit(df)
>>> result.text, result.family, result.stop
('fixed(3)', 'fixed', 'never()')
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.fit_build import (
    COUNTS_FROM_FIRST,
    bounds_at,
    family_of,
    longest_wait,
    parameters_of,
    stop_of,
    wait_of,
)
from sim.fit_data import OK, FitInputError, Trace, traces
from sim.fit_errors import fit_errors
from sim.fit_predict import polls_per_job
from sim.fit_stops import StopFit, fit_stop
from sim.fit_waits import (
    Jitter,
    Schedule,
    Switch,
    WaitFit,
    consistent,
    fit_waits,
    ks_bound,
    ks_distance,
    nice,
)
from sim.strategies import (
    Strategy,
    at_once_on_error,
    parse_strategy,
    per_status,
    poll,
    retry_after,
)
from sim.strategies.waits import Wait

__all__ = ["Fit", "FitInputError", "fit"]

QUANTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)


@dataclass
class Fit:
    """What ``fit`` found. ``strategy`` and ``text`` are None where the waits fit no family
    (``family`` is then "none") and ``waits`` holds their quantiles."""

    strategy: Strategy | None
    text: str | None
    family: str  #: "fixed", "linear", "exponential", a jitter ("full_jitter(...)"), "none"
    parameters: dict
    first: float | None  #: the first poll's delay (None: the wait's own)
    first_known: bool  #: the watch start was in the traffic
    per_status: dict  #: state -> the text of its own wait
    retry_after: str  #: "honoured", "ignored", "not seen" or "not told apart" (NOT_TOLD)
    on_error: str  #: "polls on", "polls at once", "stops", or "not seen"
    stop: str  #: the stop's text, or "none fitted"
    stop_check: str | None  #: "poll", "ahead" (the same requests as "wake") or None
    ks: float  #: KS distance of the waits from the fitted family (0: a schedule)
    max_error: float  #: a schedule's largest relative miss (nan for a jitter)
    waits: dict  #: quantiles of the waits after 2xx answers
    jobs: int
    requests: int
    outcomes: dict  #: "seen", "gave_up", "errored", "censored", "unknown" -> jobs
    polls_per_job: dict = field(default_factory=dict)  #: observed, predicted, error
    n_waits: int = 0  #: waits the family was fitted to
    tolerance: float = 0.03  #: the ``tol`` fitted with
    #: what the Retry-After line looked at: "after 2xx" and "after errors" -> what it found
    retry_after_seen: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def fitted(self) -> bool:
        return self.strategy is not None

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out.pop("strategy")
        out["fitted"] = self.fitted
        return _plain(out)


def fit(
    requests: pd.DataFrame, tol: float = 0.03, seed: int = 0, where: str = "the requests"
) -> Fit:
    """The strategy behind one client's ``requests`` (a row per request: ``job_id``,
    ``t``, ``http_status``; optionally ``state``, ``retry_after``, ``t_answered``,
    ``t_sent``, ``t_received``, ``start``, ``gave_up``, see ``sim.fit_data``). ``tol``:
    how far (relative) waits may stray from a schedule and still be it, for timing noise.
    FitInputError where the table cannot be read."""
    if not 0 < tol < 1:
        raise FitInputError(f"tolerance must be between 0 and 1, found {tol}")
    notes: list[str] = []
    twice = requests.duplicated()
    if twice.any():  # a row written twice is one request, not two at the same time
        notes.append(
            f"{int(twice.sum()):,} rows repeat an earlier row exactly (a table written "
            "twice?): each taken once"
        )
        requests = requests[~twice]
    trs = traces(requests, where)
    rows = _wait_rows(trs)
    if len(rows) < 2:  # nothing to fit a wait to: input, not a client of no family
        raise FitInputError(
            f"{where}: too little traffic to fit: {sum(tr.polls for tr in trs):,} requests "
            f"in {len(trs):,} jobs give {len(rows)} waits (at least 2 needed, and some "
            "hundreds to tell the families apart)"
        )
    plain = rows[rows["ok"] & rows["ra"].isna()]
    usual = float(plain["w"].median()) if len(plain) else math.nan
    errors = fit_errors(trs, usual, wait_of, *_guide(trs, rows, plain, tol))
    if errors.retried:  # a retry within a poll is no poll of its own
        rows = _wait_rows(trs, errors.retried)
    outcomes = {k: sum(tr.outcome == k for tr in trs) for k in ("seen", "gave_up", "errored")}
    outcomes["censored"] = sum(tr.outcome == "censored" for tr in trs)
    outcomes["unknown"] = sum(tr.outcome == "unknown" for tr in trs)
    base = dict(jobs=len(trs), requests=int(sum(tr.polls for tr in trs)), outcomes=outcomes)
    ok = rows[rows["ok"] & rows["ra"].isna()]
    if len(ok):
        ok = ok[~_near_a_cut(trs, ok)]
    if len(ok) < 2:
        return _unfitted(
            rows, [*notes, "fewer than two waits after 2xx answers"], base, n=len(ok), tol=tol
        )
    first_known = bool(np.isfinite(rows["first"]).any())
    waits_q = _quantiles(ok["w"].to_numpy())
    # the wait family: one for all states, or one per state where they differ
    fits, by_state = _fit_by_state(ok, tol, notes)
    main = fits[None]
    if main.model is None:
        near = []
        if math.isfinite(main.ks):
            near.append(f"nearest jitter's KS distance {main.ks:.3f}")
        if math.isfinite(main.max_error):  # every client waits the same, on no schedule
            near.append(f"nearest schedule's miss {main.max_error:.1%}")
        notes.append(
            f"the {main.n:,} waits after 2xx answers fit no family ("
            + ("; ".join(near) or "no jitter's bounds could be read from them")
            + ")"
        )
        return _unfitted(rows, notes, base, ks=main.ks, n=main.n, tol=tol)
    # the first poll
    first = _fit_first(rows, main, tol, notes, first_known)
    shift = 1 if (first is not None and COUNTS_FROM_FIRST) else 0
    wait: Wait = wait_of(main.model, shift)
    if by_state:
        wait = per_status(wait, **{s: wait_of(fits[s].model, shift) for s in by_state})
    asked = rows if errors.on_error != "stops" else rows[rows["ok"]]
    honoured, ignore_zero = _retry_after(asked, tol, notes, main.model)
    if honoured == NOT_TOLD:
        notes.append(
            "every Retry-After the answers carried asked for the wait the client makes "
            "anyway: whether it honours Retry-After cannot be told (fitted without it)"
        )
    on_error = errors.on_error
    notes += errors.notes
    if on_error == "polls at once":
        wait = at_once_on_error(wait)
    if honoured == "honoured":  # outermost: a Retry-After wins, on errors too
        wait = retry_after(wait, ignore_zero=True) if ignore_zero else retry_after(wait)
    if outcomes["unknown"]:
        notes.append(
            "the requests do not say how each watch ended (no state column, nor gave_up): "
            "which watches saw the job end and which gave up is unknown, so no stop is "
            "fitted (never() in the text form: add the stop you know, e.g. "
            "'| after_delay(900)'), nor polls per job predicted"
        )
        stop_fit = StopFit(None)
    else:
        stop_fit = fit_stop(trs, longest_wait(main.model, ok), isinstance(main.model, Schedule))
    if stop_fit.note:
        notes.append(stop_fit.note)
    stop = stop_of(stop_fit, notes)
    strategy = poll(wait, stop, first)
    if on_error == "stops":
        strategy = dataclasses.replace(strategy, retries=errors.retries, on_error="stop")
    elif errors.retries is not None:
        strategy = dataclasses.replace(strategy, retries=errors.retries)
    text = str(strategy)
    try:
        again = parse_strategy(text)
    except ValueError as exc:  # a fit the language cannot say: a bug of ours
        raise AssertionError(f"fitted {text!r} does not parse: {exc}") from None
    result = Fit(
        again,
        text,
        family_of(main.model),
        parameters_of(main.model),
        first,
        first_known,
        {s: str(wait_of(fits[s].model, shift)) for s in by_state},
        honoured,
        on_error,
        str(stop) if stop_fit.rule else ("unknown" if outcomes["unknown"] else "none fitted"),
        stop_fit.rule if stop_fit.rule in ("poll", "ahead") else None,
        main.ks,
        main.max_error,
        waits_q,
        notes=notes,
        **base,
    )
    if not outcomes["unknown"]:
        result.polls_per_job = polls_per_job(trs, again, seed)
    result.n_waits = main.n
    result.tolerance = tol
    result.retry_after_seen = {
        "after 2xx": _retry_after(rows[rows["ok"].astype(bool)], tol, [], main.model)[0],
        "after errors": _errors_retry_after(rows, errors, tol, main.model),
    }
    return result


def _wait_rows(trs: list[Trace], retried: dict | None = None) -> pd.DataFrame:
    """A row per wait: the polls before it (j), the wait, the wait before (prev), and what
    the answer before it said. ``retried``: per job, the requests that are retries within
    a poll, not polls of their own."""
    parts = []
    for tr in trs:
        w = tr.waits()
        if not len(w):
            continue
        first = tr.sent[0] - tr.start if math.isfinite(tr.start) else math.nan
        prev = np.concatenate([[first], w[:-1]])
        if retried:
            again = retried.get(tr.job_id, ())
            new_poll = np.array([i not in again for i in range(tr.polls)])
            j = np.cumsum(new_poll)[:-1]
        else:
            j = np.arange(1, len(w) + 1)
        parts.append(
            pd.DataFrame(
                {
                    "job": tr.job_id,
                    "j": j,
                    "w": np.maximum(w, 0.0),
                    "prev": prev,
                    "http": tr.http[:-1],
                    "ok": np.isin(tr.http[:-1], OK),
                    "state": tr.state[:-1],
                    "ra": tr.retry_after[:-1],
                    "first": first,
                    # a give-up's last wait may be cut to its deadline (max_wait)
                    "cut": np.arange(len(w)) == len(w) - 1 if tr.outcome == "gave_up" else False,
                    "at": tr.elapsed(tr.sent[:-1]),  # when the wait began, from the start
                }
            )
        )
    if not parts:
        cols = ["job", "j", "w", "prev", "http", "ok", "state", "ra", "first", "cut", "at"]
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)


def _near_a_cut(trs: list[Trace], ok: pd.DataFrame) -> np.ndarray:
    """The waits a deadline may have cut or picked: a give-up's last wait (a Smithy
    max_wait cuts it to end at the deadline), and where every give-up's last request is
    at the same time from the start (a deadline), every wait that began within the
    longest wait of it: a long draw there is cut, so the uncut ones are the short draws,
    which would hide the family's top (its cap)."""
    near = ok["cut"].astype(bool).to_numpy().copy()
    ends = [float(tr.elapsed(tr.sent)[-1]) for tr in trs if tr.outcome == "gave_up"]
    if len(ends) >= 3 and max(ends) - min(ends) <= 0.5:
        longest = float(ok["w"].max())
        near |= ok["at"].to_numpy(float) + longest >= min(ends) - 0.5
    keep = ~near
    return near if keep.sum() >= 2 else np.zeros(len(near), bool)


def _guide(trs: list[Trace], rows: pd.DataFrame, plain: pd.DataFrame, tol: float):
    """The waits a client could make after poll j, fitted on the watches that met no
    error (their polls are counted right whatever the client does on errors), and
    whether it keeps to a Retry-After between polls: what tells its retries from its
    polls."""
    clean = {tr.job_id for tr in trs if np.all(np.isin(tr.http, OK))}
    basis = plain[plain["job"].isin(clean)]
    if basis["job"].nunique() < 10:
        basis = plain
    found = _fit(basis, tol).model if len(basis) >= 2 else None
    ra_polls = _retry_after(rows[rows["ok"]], tol, [])[0] == "honoured"
    if found is None:
        return None, ra_polls
    longest = float(plain["w"].max())

    def bounds(j: int) -> tuple[float, float]:
        lo, hi = bounds_at(found, np.array([j]), np.array([longest]))
        return float(lo[0]), float(hi[0])

    return bounds, ra_polls


def _fit_by_state(ok: pd.DataFrame, tol: float, notes: list[str]):
    """The wait family of the 2xx waits (key None), and of each state whose waits the
    most common state's family cannot have drawn (the list of those states)."""
    fits: dict[str | None, WaitFit] = {}
    by_state: list[str] = []
    counts = ok["state"].dropna().value_counts()
    if len(counts) > 1:
        ref = _fit(ok[ok["state"] == counts.index[0]], tol)
        for s in counts.index[1:]:
            mine = ok[ok["state"] == s]
            if ref.model is None or len(mine) < 5 or _consistent(ref.model, mine, tol):
                continue
            f = _fit(mine, tol)
            if f.model is None:
                notes.append(f"the waits after {s} answers fit no family of their own")
                continue
            fits[s] = f
            by_state.append(s)
    rest = ok[~ok["state"].isin(by_state)] if by_state else ok
    fits[None] = _fit(rest, tol)
    return fits, sorted(by_state)


def _consistent(model, rows: pd.DataFrame, tol: float) -> bool:
    return consistent(
        model, rows["j"].to_numpy(), rows["w"].to_numpy(float), rows["prev"].to_numpy(float), tol
    )


def _fit(rows: pd.DataFrame, tol: float) -> WaitFit:
    return fit_waits(
        rows["j"].to_numpy(), rows["w"].to_numpy(float), rows["prev"].to_numpy(float), tol
    )


def _fit_first(rows, main: WaitFit, tol, notes, known: bool) -> float | None:
    """The first poll's delay: None where it is the wait's own at attempt 0."""
    if not known:
        notes.append(
            "the traffic does not say when each watch started: the first request is taken "
            "as the start (first=0)"
        )
        return 0.0
    d0 = rows.groupby("job")["first"].first().to_numpy(float)
    d0 = d0[np.isfinite(d0)]
    # the wait's own at attempt 0 first: a first wait of 1 s before waits of 600 s is
    # no request's own time; a jitter's draws judged by the KS bound for their number
    zeros, unknown = np.zeros(len(d0)), np.full(len(d0), np.nan)
    model = main.model.head if isinstance(main.model, Switch) else main.model
    if isinstance(model, Schedule):
        own = model.at(zeros)
        if np.all(np.abs(d0 - own) <= tol * own + 0.01):
            return None
    elif model.kind == "decorrelated":  # before any wait: from base to three times it
        attempt0 = Jitter("added", Schedule("fixed", model.low), width=2 * model.low)
        if ks_distance(attempt0, zeros, d0, unknown) <= ks_bound(len(d0)):
            return None
    elif ks_distance(model, zeros, d0, unknown) <= ks_bound(len(d0)):
        return None
    ok = rows.loc[rows["ok"].astype(bool), "w"]
    short = float(np.quantile(ok, 0.05)) if len(ok) else 0.0
    if np.all(d0 <= 0.01 + max(0.05, tol) * short):  # at once, but for a request's own time
        return 0.0
    med = float(np.median(d0))
    if np.any(np.abs(d0 - med) > tol * med + 0.01):
        q = np.quantile(d0, [0.05, 0.95])
        notes.append(
            f"the first poll's delay varies ({q[0]:.3g} to {q[1]:.3g} s): fitted as {med:.3g}"
        )
    return nice(med)


NOT_TOLD = "not told apart"  #: every Retry-After asked for the wait made anyway


def _retry_after(rows: pd.DataFrame, tol: float, notes: list[str], model=None) -> tuple[str, bool]:
    """Whether the waits after answers with a Retry-After keep to it, and whether a
    Retry-After of 0 is ignored (the usual wait instead), as azure-core's poller does.
    Where the fitted schedule (``model``) waits what every Retry-After asked anyway, the
    traffic cannot tell: NOT_TOLD."""
    asked = rows[rows["ra"].notna()]
    if asked.empty:
        return "not seen", False
    if isinstance(model, Schedule):
        g = model.at(asked["j"].to_numpy(float))
        ra = asked["ra"].to_numpy(float)
        anyway = np.abs(ra - g) <= tol * g + 0.05
        if anyway.all():
            return NOT_TOLD, False
        asked = asked[~anyway]
    ra, w = asked["ra"].to_numpy(float), asked["w"].to_numpy(float)
    kept = np.abs(w - ra) <= tol * ra + 0.05
    some = ra > 0
    share = float(kept[some].mean()) if some.any() else float(kept.mean())
    if share < 0.9:
        if share > 0.1:
            notes.append(f"{share:.0%} of the waits after a Retry-After kept to it")
        return "ignored", False
    zero = ~some
    ignore_zero = bool(zero.any()) and float(np.mean(w[zero] > 0.05)) >= 0.9
    return "honoured", ignore_zero


def _errors_retry_after(rows: pd.DataFrame, errors, tol: float, model=None) -> str:
    """Whether the waits after error answers that carried a Retry-After kept to it: in
    the request-level retries where the client makes them, else between its polls."""
    bad = rows[~rows["ok"].astype(bool)]
    if bad["ra"].notna().sum() == 0:
        return "not seen"
    if errors.retries is not None:
        kept = "honoured" if errors.retries.retry_after else "ignored"
        return f"{kept} by the retries within a poll"
    return _retry_after(bad, tol, [], model)[0]


def _quantiles(w: np.ndarray) -> dict:
    if not len(w):
        return {}
    return {f"p{round(q * 100)}": float(np.quantile(w, q)) for q in QUANTILES}


def _unfitted(rows, notes, base, ks: float = math.nan, n: int = 0, tol: float = 0.03) -> Fit:
    ok = rows[rows["ok"]] if len(rows) else rows
    return Fit(
        None,
        None,
        "none",
        {},
        None,
        False,
        {},
        "not seen",
        "not seen",
        "none fitted",
        None,
        ks,
        math.nan,
        _quantiles(ok["w"].to_numpy(float)) if len(ok) else {},
        notes=notes,
        n_waits=n,
        tolerance=tol,
        **base,
    )


def _plain(x):
    """Floats that JSON can carry (inf and nan as None)."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if isinstance(x, float | np.floating):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x
