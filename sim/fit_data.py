"""The traffic ``sim.fit`` reads: one client's requests, per job, as the client made them.

A table of requests (a DataFrame with ``job_id``, ``t`` and ``http_status``, and where
known ``state``, ``retry_after``, ``t_answered``, ``t_sent``, ``t_received``, ``start``
and ``gave_up``) becomes a ``Trace`` per job: when the client sent each request and got
its answer, what the answer said, and how the watch ended. Times the client saw
(``t_sent``, ``t_received``) are used where the table has them; otherwise the server's
(``t``, ``t_answered``), which differ from the client's by the round trip.

>>> import pandas as pd
>>> df = pd.DataFrame({"job_id": [1, 1, 1], "t": [0.0, 5.0, 10.0],
...                    "http_status": [200, 200, 200],
...                    "state": ["running", "running", "succeeded"]})
>>> [tr.outcome for tr in traces(df)], traces(df)[0].waits().tolist()
(['seen'], [5.0, 5.0])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.states import JOB_TERMINAL

TERMINAL = {s.value for s in JOB_TERMINAL}
OK = (200, 304)
REQUIRED = ("job_id", "t", "http_status")
NUMERIC = ("t", "http_status", "retry_after", "t_answered", "t_sent", "t_received", "start")


class FitInputError(ValueError):
    """Traffic that cannot be fitted: what is wrong with it, in one line."""


@dataclass
class Trace:
    """One job's requests by one client, in the client's time."""

    job_id: object
    sent: np.ndarray  #: when each request left the client
    received: np.ndarray  #: when its answer came back (the send time where unknown)
    http: np.ndarray  #: HTTP status of each answer (0: no answer)
    state: list[str | None]  #: the canonical state each answer showed (None: none)
    retry_after: np.ndarray  #: the Retry-After each answer carried (nan: none)
    start: float  #: when the client started watching (nan: unknown)
    #: how the watch ended: "seen" (an answer showed the end), "gave_up", "errored"
    #: (stopped on an error answer), "censored" (the traffic ends while it watched), or
    #: "unknown" (the table has no state, nor gave_up: whether the job ended is unknown)
    outcome: str

    @property
    def polls(self) -> int:
        return len(self.sent)

    def ok(self) -> np.ndarray:
        return np.isin(self.http, OK)

    def waits(self) -> np.ndarray:
        """The client's wait after each answer but the last: from its answer's arrival to
        the next request's sending."""
        return self.sent[1:] - self.received[:-1]

    def elapsed(self, times: np.ndarray) -> np.ndarray:
        return times - (self.start if math.isfinite(self.start) else self.sent[0])


def traces(df: pd.DataFrame, where: str = "the requests") -> list[Trace]:
    """A Trace per job of the table; FitInputError names the column or value at fault."""
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        cols = list(map(str, df.columns))
        have = ", ".join(cols[:8]) + (", ..." if len(cols) > 8 else "") if cols else "none"
        raise FitInputError(
            f"{where}: missing column {', '.join(missing)}; expected job_id, t, http_status "
            f"(and optionally state, retry_after, t_answered, start), found {have}"
        )
    if df.empty:
        raise FitInputError(f"{where}: no requests to fit")
    df = df.copy()
    for col in NUMERIC:
        if col in df.columns:
            df[col] = _numbers(df[col], col, where)
    _sane(df, where)
    df["http_status"] = df["http_status"].fillna(0).astype(int)
    sent = df["t_sent"] if "t_sent" in df.columns else df["t"]
    got = df["t_received"] if "t_received" in df.columns else df.get("t_answered", df["t"])
    df["_sent"] = sent.fillna(df["t"])
    df["_got"] = got.fillna(df["_sent"])
    back = df["_got"] < df["_sent"]
    if back.any():
        i = int(np.flatnonzero(back.to_numpy())[0])
        raise FitInputError(
            f"{where}: row {i + 1}: answered ({df['_got'].iloc[i]:g}) before it was sent "
            f"({df['_sent'].iloc[i]:g})"
        )
    df = df.sort_values(["job_id", "_sent"], kind="stable")
    out = []
    end_of_log = float(df["_got"].max())
    for job_id, g in df.groupby("job_id", sort=False):
        out.append(_trace(job_id, g))
    _censor(out, end_of_log, "gave_up" in df.columns)
    return out


#: the most seconds a time may be from 0 (a century), past which it is no time
TIME_MOST = 3.2e9


def _sane(df: pd.DataFrame, where: str) -> None:
    """Every request has a finite time, and every time is within a century of 0;
    FitInputError names the first row that is not."""
    for col in ("t", "t_sent", "t_received", "t_answered", "start"):
        if col not in df.columns:
            continue
        v = df[col].to_numpy(float)
        bad = ~np.isfinite(v) if col == "t" else np.isinf(v)
        bad |= np.abs(np.nan_to_num(v)) > TIME_MOST
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise FitInputError(
                f"{where}: column {col}, row {i + 1}: expected a time in seconds, found "
                f"{float(v[i]):g}"
            )
    if "start" in df.columns:
        late = df["start"].to_numpy(float) > df["t"].to_numpy(float) + 1e-6
        if late.any():
            i = int(np.flatnonzero(late)[0])
            raise FitInputError(
                f"{where}: row {i + 1}: the watch starts ({df['start'].iloc[i]:g}) after "
                f"the request ({df['t'].iloc[i]:g})"
            )


def _numbers(col: pd.Series, name: str, where: str) -> pd.Series:
    """The column as floats (empty cells nan); FitInputError at the first that is not."""
    if col.dtype == object:
        col = col.replace("", np.nan)
    values = pd.to_numeric(col, errors="coerce")
    bad = values.isna() & col.notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise FitInputError(
            f"{where}: column {name}, row {i + 1}: expected a number, found {col.iloc[i]!r}"
        )
    return values.astype(float)


def _trace(job_id: object, g: pd.DataFrame) -> Trace:
    http = g["http_status"].to_numpy(dtype=int)
    if "state" in g.columns:
        state = [s if isinstance(s, str) and s else None for s in g["state"].tolist()]
    else:
        state = [None] * len(g)
    ra = g["retry_after"].to_numpy(float) if "retry_after" in g.columns else np.full(len(g), np.nan)
    start = float(g["start"].iloc[0]) if "start" in g.columns else math.nan
    ok_last = http[-1] in OK
    told = "gave_up" in g.columns
    logged = _polls_told(g)
    if logged is not None and logged > len(g):  # the requests stop before the watch did
        told = False
    if state[-1] in TERMINAL and ok_last:
        outcome = "seen"
    elif logged is not None and logged > len(g):  # (--max-requests): watched past them
        outcome = "censored"
    elif told and logged is not None and logged != len(g):
        # the table's outcome is of other requests (a replay of the job, other draws)
        outcome = "gave_up" if ok_last else "errored"
    elif told:  # the table says how each watch ended
        if _true(g["gave_up"].iloc[0]):
            outcome = "gave_up"
        elif "errored" in g.columns and _true(g["errored"].iloc[0]):
            outcome = "errored"
        elif "seen_state" in g.columns and isinstance(g["seen_state"].iloc[0], str):
            # seen, but not in these requests: they stop before the end was shown
            outcome = "censored" if "state" in g.columns else "seen"
        else:
            outcome = "censored"  # watched until the run ended
    elif "state" not in g.columns:  # nothing says whether the job ended: no guess
        outcome = "unknown"
    else:
        outcome = "gave_up" if ok_last else "errored"
    return Trace(
        job_id,
        g["_sent"].to_numpy(float),
        g["_got"].to_numpy(float),
        http,
        state,
        ra,
        start,
        outcome,
    )


def _polls_told(g: pd.DataFrame) -> int | None:
    """The polls the per-job table (polls.csv) counts for this watch, where it does."""
    if "_polls_table" not in g.columns:
        return None
    n = pd.to_numeric(g["_polls_table"].iloc[0], errors="coerce")
    return int(n) if pd.notna(n) else None


def _true(v: object) -> bool:
    return v is True or (isinstance(v, str) and v.strip().lower() == "true") or v == 1


def _censor(out: list[Trace], end_of_log: float, told: bool) -> None:
    """A watch the traffic stops in the middle of is no give-up: where the table does not
    say who gave up, a job whose last request is within two of its longest waits of the
    traffic's end is taken as still watched ("censored")."""
    if told:
        return
    for tr in out:
        if tr.outcome in ("seen", "unknown"):
            continue
        w = tr.waits()
        longest = float(w.max()) if len(w) else 0.0
        if end_of_log - tr.received[-1] <= 2 * longest or len(w) == 0:
            tr.outcome = "censored"


def from_report(
    requests: pd.DataFrame, polls: pd.DataFrame | None = None, strategy: str | None = None
) -> pd.DataFrame:
    """The requests of one strategy from ``pollsim simulate --out``'s tables
    (requests.csv, and polls.csv for when each watch started and how it ended), as
    ``traces`` reads them. ``strategy`` picks one of a mix; FitInputError if it is
    unknown, or if the requests mix strategies and none is picked."""
    df = requests
    if "strategy" in df.columns:
        labels = sorted(df["strategy"].dropna().astype(str).unique())
        if strategy is not None:
            if strategy not in labels:
                raise FitInputError(
                    f"no requests of strategy {strategy!r}; the requests have "
                    + (", ".join(labels) or "none")
                )
            df = df[df["strategy"] == strategy]
        elif len(labels) > 1:
            raise FitInputError(
                "the requests mix strategies (" + ", ".join(labels) + "): pick one with "
                "--strategy-label"
            )
    if polls is not None and not polls.empty and "job_id" in polls.columns:
        keep = [
            c for c in ("watch_start", "gave_up", "errored", "seen_state", "polls") if c in polls
        ]
        per_job = polls[["job_id", *keep]].rename(
            columns={"watch_start": "start", "polls": "_polls_table"}
        )
        df = df.merge(per_job, on="job_id", how="left")
    return _replays_own_endings(df)


REPLAYED_ENDS = ("replay_gave_up", "replay_errored", "replay_seen_state")


def _replays_own_endings(df: pd.DataFrame) -> pd.DataFrame:
    """Where requests.csv holds a replay of a fast-path job (other draws than the run's,
    ``sim.polling.sampled_requests``), its own ending, not polls.csv's."""
    if REPLAYED_ENDS[0] not in df.columns:
        return df
    df = df.copy()
    mine = df[REPLAYED_ENDS[0]].notna().to_numpy()
    for src, dst in zip(REPLAYED_ENDS, ("gave_up", "errored", "seen_state"), strict=True):
        values = df[src].astype(object).where(df[src].notna(), None)
        if dst == "seen_state":
            values = values.where(values.astype(str).str.len() > 0, None)
        column = df[dst].astype(object) if dst in df.columns else pd.Series(None, df.index)
        column[mine] = values[mine]
        df[dst] = column
    if "_polls_table" in df.columns:
        df.loc[mine, "_polls_table"] = np.nan
    return df.drop(columns=list(REPLAYED_ENDS))
