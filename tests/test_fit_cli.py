"""``pollsim fit`` as users run it: the round trip of the issue's acceptance (simulate a
preset with --out, fit its requests, simulate the fitted text form: polls per job and
p95 detection latency within 3%), a client that fits no family (exit 3, its waits'
quantiles), and bad input (one line, exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pollsim.cli import main
from sim.strategies import parse_strategy

ROOT = Path(__file__).resolve().parents[1]
RUN = ("--seed", "3", "--horizon", "1h", "--quiet")


def pollsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pollsim", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def figures(summary: str) -> tuple[float, float]:
    """Polls per job (mean) and p95 detection latency of the run's one strategy."""
    (s,) = json.loads(summary)["strategies"].values()
    return s["polls_per_job"]["mean"], s["detection_latency_s"]["p95"]


@pytest.mark.slow  # three runs of pollsim, some 9 s in all
@pytest.mark.parametrize("preset", ["google-lro", "fiddler-py", "aws-js-waiter"])
def test_round_trip_simulate_fit_simulate(preset, tmp_path):
    out = tmp_path / "run"
    original = pollsim("simulate", "--strategy", preset, *RUN, "--json", "--out", str(out))
    assert original.returncode == 0, original.stderr
    fitted = pollsim("fit", str(out), "--text")
    assert fitted.returncode == 0, fitted.stderr
    text = fitted.stdout.strip()
    parse_strategy(text)  # what simulate --strategy takes
    again = pollsim("simulate", "--strategy", text, *RUN, "--json")
    assert again.returncode == 0, again.stderr
    (polls, p95), (polls2, p95_2) = figures(original.stdout), figures(again.stdout)
    assert polls2 == pytest.approx(polls, rel=0.03)
    assert p95_2 == pytest.approx(p95, rel=0.03)


def run_main(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _requests_csv(path: Path, waits_per_job: list[list[float]]) -> Path:
    rows = []
    for job, waits in enumerate(waits_per_job):
        t = np.concatenate([[0.0], np.cumsum(waits)])
        states = ["running"] * (len(t) - 1) + ["succeeded"]
        rows += [(job, float(x), 200, s, 0.0) for x, s in zip(t, states, strict=True)]
    pd.DataFrame(rows, columns=["job_id", "t", "http_status", "state", "start"]).to_csv(
        path, index=False
    )
    return path


def test_a_client_of_no_family_exits_3_with_its_waits(tmp_path, capsys):
    rng = np.random.default_rng(5)
    mix = [
        np.where(rng.random(30) < 0.5, rng.uniform(1, 2, 30), rng.uniform(10, 11, 30)).tolist()
        for _ in range(100)
    ]
    csv = _requests_csv(tmp_path / "requests.csv", mix)
    code, out, _ = run_main(capsys, "fit", str(csv))
    assert code == 3
    assert "no strategy fits: the waits fit no family" in out
    assert "waits after 2xx answers (s): p0 " in out and "p95 " in out
    code, out, _ = run_main(capsys, "fit", str(csv), "--json")
    assert code == 3 and json.loads(out)["fitted"] is False
    code, out, err = run_main(capsys, "fit", str(csv), "--text")
    assert code == 3 and out == "" and "fit no family" in err


def test_a_request_log_is_fitted_for_one_client(tmp_path, capsys):
    log = tmp_path / "requests.jsonl"
    lines = []
    for job in range(30):
        for k in range(6 + job % 5):
            shown = "succeeded" if k == 5 + job % 5 else "running"
            for client, wait in (("a", 4.0), ("b", 9.0)):
                lines.append(
                    {
                        "t": 100.0 * job + wait * k,
                        "client": client,
                        "job_id": job,
                        "shown": shown,
                        "http_status": 200,
                        "retry_after": None,
                    }
                )
    log.write_text("".join(json.dumps(x) + "\n" for x in lines))
    code, out, _ = run_main(capsys, "fit", "--request-log", str(log), "--client", "b", "--text")
    assert (code, out) == (0, "poll(fixed(9), first=0)\n")
    code, out, _ = run_main(capsys, "fit", "--request-log", str(log), "--client", "a", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["client"] == "a" and doc["fitted"] is True
    assert doc["text"] == "poll(fixed(4), first=0)" and doc["family"] == "fixed"
    assert doc["parameters"]["wait_after_first_poll"] == 4.0 and doc["first_known"] is False
    assert doc["polls_per_job"]["error"] == 0.0
    code, _, err = run_main(capsys, "fit", "--request-log", str(log))
    assert code == 2 and "the log has 2 clients; pick one with --client (a, b)" in err
    code, _, err = run_main(capsys, "fit", "--request-log", str(log), "--client", "c")
    assert code == 2 and "no requests of client 'c'" in err


@pytest.mark.parametrize(
    ("make", "args", "says"),
    [
        (None, ("fit",), "give a report (a directory or CSV) or --request-log FILE"),
        (None, ("fit", "{d}/nope"), "nope: no such file or directory"),
        (None, ("fit", "--request-log", "{d}/nope.jsonl"), "nope.jsonl: no such file"),
        ("", ("fit", "--request-log", "{d}/f"), "f: empty: no request logged"),
        ("{not json\n", ("fit", "--request-log", "{d}/f"), "f, line 1: not a JSON object"),
        ("a,b\n1,2\n", ("fit", "{d}/f"), "missing column job_id, t, http_status"),
        ("job_id,t,http_status\n1,soon,200\n", ("fit", "{d}/f"), "column t, row 1: expected"),
        ("job_id,t,http_status\n", ("fit", "{d}/f"), "no requests to fit"),
        ("", ("fit", "{d}/f"), "f: empty: no table"),
        ("job_id,t,http_status\n1,0,200\n", ("fit", "{d}/f", "--tolerance", "2"), "between 0"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, make, args, says):
    if make is not None:
        (tmp_path / "f").write_text(make)
    code, out, err = run_main(capsys, *(a.format(d=tmp_path) for a in args))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and says in err, err


def test_an_unknown_strategy_label_names_the_ones_there(tmp_path, capsys):
    csv = tmp_path / "requests.csv"
    pd.DataFrame(
        {"t": [0.0, 1.0], "job_id": [1, 2], "http_status": [200, 200], "strategy": ["x", "y"]}
    ).to_csv(csv, index=False)
    code, _, err = run_main(capsys, "fit", str(csv))
    assert code == 2 and "mix strategies (x, y): pick one with --strategy-label" in err
    code, _, err = run_main(capsys, "fit", str(csv), "--strategy-label", "z")
    assert code == 2 and "no requests of strategy 'z'; the requests have x, y" in err


def test_the_servers_report_gives_the_watch_start(tmp_path, capsys):
    """--jobs: each job's submission from the ground truth, so the first poll's delay
    (here 12 s, then every 4 s) is fitted rather than taken as at once."""
    log, truth = tmp_path / "requests.jsonl", tmp_path / "truth.csv"
    lines, rows = [], []
    for job in range(20):
        polls = 4 + job % 4
        for k in range(polls):
            shown = "succeeded" if k == polls - 1 else "running"
            t = 100.0 * job + 12.0 + 4.0 * k
            lines.append(
                {"t": t, "client": "qa", "job_id": job, "shown": shown, "http_status": 200}
            )
        rows.append({"client": "qa", "job_id": str(job), "submit": 100.0 * job, "gave_up": False})
    log.write_text("".join(json.dumps(x) + "\n" for x in lines))
    pd.DataFrame(rows).to_csv(truth, index=False)
    code, out, _ = run_main(
        capsys, "fit", "--request-log", str(log), "--jobs", str(truth), "--text"
    )
    assert (code, out) == (0, "poll(fixed(4), first=12)\n")
    code, _, err = run_main(capsys, "fit", "--request-log", str(log), "--jobs", str(log))
    assert code == 2 and "expected the server's per-job rows" in err


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("poll(fixed(5), first=0)", "fixed 5 s"),
        ("poll(linear(2, 3, max=30), first=0)", "linear: 2 s after the first poll, +3 s each poll"),
        (
            "poll(exponential(1, 2, max=64), first=0)",
            "exponential: 1 s after the first poll, x2 each poll, at most 64 s",
        ),
        ("poll(full_jitter(fixed(10)), first=0)", "full jitter up to fixed "),
        ("equal_jitter(exponential(2, 2, max=60))", "equal jitter up to exponential: "),
        ("fixed(5) + uniform(0, 2)", "fixed 5 s, plus uniform up to 2"),
        ("decorrelated_jitter(1, max=30)", "decorrelated jitter: from 1"),
        (
            "poll(for_attempts(3, full_jitter(fixed(4)), then=fixed(20)), first=0)",
            "after polls 1 to 3: full jitter up to fixed ",
        ),
        (
            "poll(for_attempts(4, exponential(1, 2), then=fixed(30)), first=0)",
            "after polls 1 to 4: exponential: 1 s after the first poll, x2 each poll; "
            "from poll 5 on: fixed 30 s",
        ),
    ],
)
def test_every_family_is_told_in_words(text, says, tmp_path, capsys):
    """The terminal's text, not only --json and --text: a for_attempts fit crashed it
    (KeyError 'wait_after_first_poll')."""
    from tests.sim.fit_traffic import scripts, traffic

    csv = tmp_path / "requests.csv"
    traffic(parse_strategy(text), scripts(80, 2, 600, {}), 3, 900).to_csv(csv, index=False)
    code, out, err = run_main(capsys, "fit", str(csv))
    assert code == 0 and err == "", err
    waits = next(line for line in out.splitlines() if line.startswith("  waits "))
    assert says in waits, out


def test_no_family_hints_at_the_tolerance_and_a_small_sample(tmp_path, capsys):
    rng = np.random.default_rng(5)
    mix = [
        np.where(rng.random(12) < 0.5, rng.uniform(1, 2, 12), rng.uniform(10, 11, 12)).tolist()
        for _ in range(8)
    ]
    csv = _requests_csv(tmp_path / "requests.csv", mix)
    code, out, _ = run_main(capsys, "fit", str(csv), "--tolerance", "0.05")
    assert code == 3
    assert "--tolerance (now 0.05)" in out and "--speed" in out
    assert "only 96 waits after 2xx answers were fitted: the sample may be too small" in out
    code, out, err = run_main(capsys, "fit", str(csv), "--text")
    assert code == 3 and "the sample may be too small" in err


def test_retry_after_line_says_what_it_looked_at(tmp_path, capsys):
    """azure-lro honours a 503's Retry-After in its retries; its 200s carried none."""
    from sim.strategies import PRESETS
    from tests.sim.fit_traffic import scripts, traffic

    csv = tmp_path / "requests.csv"
    jobs = scripts(150, 1, 600, {"outage_ra": 0.4})
    traffic(PRESETS["azure-lro"], jobs, 2, 900).to_csv(csv, index=False)
    code, out, _ = run_main(capsys, "fit", str(csv))
    assert code == 0 and "retry_after=True" in out
    assert (
        "Retry-After    after 2xx answers: not seen; "
        "after errors: honoured by the retries within a poll"
    ) in out


def test_polls_per_job_says_when_it_is_a_sample(tmp_path, capsys, monkeypatch):
    import sim.fit_predict
    from tests.sim.fit_traffic import scripts, traffic

    monkeypatch.setattr(sim.fit_predict, "REPLAYED", 25)
    csv = tmp_path / "requests.csv"
    s = parse_strategy("poll(fixed(5), stop=after_polls(12), first=0)")
    traffic(s, scripts(80, 3, 600, {}), 4, 900).to_csv(csv, index=False)
    code, out, _ = run_main(capsys, "fit", str(csv))
    assert code == 0
    assert "over a sample of 25 of the " in out and " observed)" in out


def test_without_a_state_column_the_endings_are_unknown(tmp_path, capsys):
    from tests.sim.fit_traffic import scripts, traffic

    csv = tmp_path / "requests.csv"
    s = parse_strategy("poll(fixed(5), stop=after_polls(12), first=0)")
    df = traffic(s, scripts(60, 3, 600, {}), 4, 900)
    df.drop(columns=["state", "gave_up", "errored", "seen_state"]).to_csv(csv, index=False)
    code, out, _ = run_main(capsys, "fit", str(csv))
    assert code == 0
    assert "how each watch ended unknown" in out and " 0 gave up" not in out
    assert "  stop           unknown" in out and "  polls per job" not in out


def test_the_help_examples_agree(capsys):
    """The request-log example's client is the token's name of the server it shows."""
    from pollsim.fitting import EPILOG_FIT

    assert "--token qa=s3cret" in EPILOG_FIT and "--client qa:token#1" in EPILOG_FIT
    assert "t_sent" in EPILOG_FIT or "t_sent" in run_help(capsys)


def run_help(capsys) -> str:
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    return capsys.readouterr().out


def _log_line(**over) -> str:
    entry = {"t": 0.0, "client": "x", "job_id": 1, "http_status": 200, "shown": "running"}
    return json.dumps({**entry, **over}) + "\n"


GOOD = "".join(_log_line(t=5.0 * k) for k in range(3))


@pytest.mark.parametrize(
    ("log", "says"),
    [
        (GOOD + _log_line(job_id=[1, 2]), "line 4: job_id: expected a string or a number"),
        (GOOD + _log_line(client=None), "line 4: client: expected a string, found None"),
        (GOOD + _log_line(t=True), "line 4: t: expected a time in seconds, found True"),
        (GOOD + _log_line(t=1e308), "line 4: t: expected a time in seconds"),
        (GOOD + _log_line(t=None), "line 4: t: expected a time in seconds, found None"),
        (GOOD + _log_line(t="bad"), "line 4: t: expected a time in seconds, found 'bad'"),
        (_log_line(), "too little traffic to fit: 1 requests in 1 jobs give 0 waits"),
    ],
)
def test_a_bad_request_log_names_its_line(tmp_path, capsys, log, says):
    """Tracebacks before (unhashable job ids, a null client); a bad value named by the
    file's line, not the client's row."""
    path = tmp_path / "requests.jsonl"
    path.write_text(log)
    code, out, err = run_main(capsys, "fit", "--request-log", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and says in err, err


@pytest.mark.parametrize(
    ("csv", "says"),
    [
        ("job_id,t,http_status\n1,0,200\n", "too little traffic to fit"),
        ("job_id,t,http_status\n1,0,200\n1,,200\n1,10,200\n", "column t, row 2"),
        ("job_id,t,http_status\n1,0,200\n1,inf,200\n1,10,200\n", "column t, row 2"),
        (
            "job_id,t,http_status,t_sent,t_received\n1,0,200,0,0.1\n1,5,200,5.2,5.1\n",
            "row 2: answered (5.1) before it was sent (5.2)",
        ),
        (
            "job_id,t,http_status,start\n1,0,200,1e9\n1,5,200,1e9\n",
            "row 1: the watch starts (1e+09) after the request (0)",
        ),
    ],
)
def test_impossible_times_are_refused(tmp_path, capsys, csv, says):
    path = tmp_path / "requests.csv"
    path.write_text(csv)
    code, out, err = run_main(capsys, "fit", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and says in err, err


def test_the_jobs_file_must_be_of_the_same_run(tmp_path, capsys):
    log = tmp_path / "requests.jsonl"
    log.write_text("".join(_log_line(job_id=j, t=5.0 * k) for j in (1, 2) for k in range(4)))
    truth = tmp_path / "truth.csv"
    truth.write_text("client,job_id,submit\nx,1,0\n")
    code, _, err = run_main(capsys, "fit", "--request-log", str(log), "--jobs", str(truth))
    assert code == 2 and "truth.csv: has 1 of the 2 jobs client 'x' polled" in err
    truth.write_text("client,job_id,submit\nx,1,abc\nx,2,0\n")
    code, _, err = run_main(capsys, "fit", "--request-log", str(log), "--jobs", str(truth))
    assert code == 2 and "truth.csv: column submit, job 1: expected a time" in err


def test_a_table_written_twice_is_taken_once(tmp_path, capsys):
    jobs = [[5.0] * (3 + k % 9) for k in range(50)]
    csv = _requests_csv(tmp_path / "requests.csv", jobs)
    df = pd.read_csv(csv)
    pd.concat([df, df]).to_csv(csv, index=False)
    code, out, _ = run_main(capsys, "fit", str(csv))
    assert code == 0 and "strategy: poll(fixed(5), first=0)" in out
    assert f"{len(df):,} rows repeat an earlier row exactly" in out


def test_replayed_requests_carry_their_own_endings_and_max_requests_is_exact(tmp_path):
    """The fast path logs no request: requests.csv holds replays of its jobs (other
    draws), whose give-ups are their own, not polls.csv's (six give-ups were counted as
    having seen the end); and --max-requests writes exactly that many rows."""
    out = tmp_path / "run"
    s = "full_jitter(fixed(10)) | after_polls(20)"
    run = pollsim("simulate", "--strategy", s, *RUN, "--out", str(out), "--max-requests", "3000")
    assert run.returncode == 0, run.stderr
    requests = pd.read_csv(out / "requests.csv")
    assert len(requests) == 3000
    per_job = requests.groupby("job_id").agg(n=("t", "size"), quit=("replay_gave_up", "first"))
    expected = int(((per_job["quit"] == True) & (per_job["n"] == 20)).sum())  # noqa: E712
    fitted = pollsim("fit", str(out), "--json")
    assert fitted.returncode == 0, fitted.stderr
    result = json.loads(fitted.stdout)
    assert result["outcomes"]["gave_up"] == expected > 0
    assert result["text"] == s
