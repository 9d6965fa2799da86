"""Every route of every registered dialect, answered as the dialect declares it, and
every error on a dialect's path in that dialect's shape: written as loops over
``DIALECTS``, so that a dialect registered later is covered by registering it.

In process (``Harness``) for the routes and the core's errors; the front's own refusals
(a slot, a body, our own bug) through the aiohttp front on a loopback port, in process;
and one check against a real ``pollsim serve``."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from jsonschema import Draft202012Validator

from mock_server.app import build_core, entry, make_server
from mock_server.responses import Response
from sim import load_scenario
from sim.dialects import DIALECTS, Dialect, Kind, Route
from sim.mock_spec import MockSpec
from sim.states import JobState
from tests.mock_server.helpers import ADMIN, QA, Harness
from tests.mock_server.raw import Reply

ALL = pytest.mark.parametrize("dialect", list(DIALECTS.values()), ids=list(DIALECTS))
PROJECT = "alpha"  #: the tenant of tok-a, the Harness's default token
JOB = {"template": "chain", "duration": "1h"}  #: a job that runs on through a test


def fill(route: Route, shown: str = "", project: str = PROJECT) -> str:
    return route.path.replace("{id}", shown).replace("{project}", project)


def first(dialect: Dialect, kind: Kind) -> Route:
    return next(r for r in dialect.routes if r.kind is kind)


def has(dialect: Dialect, kind: Kind) -> bool:
    return any(r.kind is kind for r in dialect.routes)


def valid(doc: object, schema: dict) -> None:
    errors = list(Draft202012Validator(schema).iter_errors(doc))
    assert not errors, f"{errors[0].message} in {doc}"


def body(resp: Response) -> object:
    assert isinstance(resp, Response), resp
    return json.loads(resp.body)


def submit(h: Harness, dialect: Dialect, job: dict = JOB, **kw):
    """A job made through the dialect's submission: the answer, the job's record and
    the id the dialect shows it by (read off the answer as a client would)."""
    resp = h.call("POST", fill(first(dialect, Kind.SUBMIT)), job, **kw)
    assert isinstance(resp, Response) and resp.status < 300, resp.body
    headers = {k.lower(): v for k, v in resp.headers.items()}
    shown = dialect.new_job(resp.status, headers, json.loads(resp.body))
    job_id = dialect.read_id(shown, h.core.seed)
    assert job_id is not None, shown
    return resp, h.core.model.records[job_id], shown


def shaped(dialect: Dialect, resp: Response, status: int) -> dict:
    """The error's body is the dialect's rendering of what it was made from."""
    assert isinstance(resp, Response) and resp.status == status, (resp.status, resp.body)
    assert resp.error is not None and resp.headers["Content-Type"] == "application/json"
    doc = json.loads(resp.body)
    assert doc == dialect.error(status, *resp.error)
    valid(doc, dialect.error_schema())
    return doc


# --- the routes ---------------------------------------------------------------------------


@ALL
def test_a_submission_is_answered_as_the_dialect_answers_one(dialect):
    h = Harness()
    resp, rec, shown = submit(h, dialect)
    seen = h.core.seen(rec, dialect)
    assert seen.shown_id == shown == dialect.show_id(rec.id, h.core.seed)
    status_doc = dialect.render(rec, seen)
    expected = dialect.submitted(rec, seen, status_doc)
    assert resp.status == expected.status
    assert {k: resp.headers[k] for k in expected.headers} == expected.headers
    assert body(resp) == expected.doc
    # the ETag of the status document, where that is what the answer carries
    assert ("ETag" in resp.headers) == (expected.doc is status_doc)
    valid(body(resp), dialect.submitted_schema())
    assert rec.tenant == PROJECT


@ALL
def test_every_route_but_actions_answers_as_declared(dialect):
    h = Harness()
    _, rec, shown = submit(h, dialect)
    h.sleep(5)  # running
    core = h.core
    for route in dialect.routes:
        if route.kind in (Kind.SUBMIT, Kind.ACTION):
            continue
        resp = h.call(route.method, fill(route, shown))
        where = f"{route.method} {route.path}"
        assert isinstance(resp, Response) and resp.status == 200, (where, resp.body)
        doc = body(resp)
        seen = core.seen(rec, dialect)
        if route.kind is Kind.STATUS:
            assert doc == dialect.render(rec, seen), where
            valid(doc, dialect.schema())
            assert dialect.job_word(dialect.read(doc).state) == dialect.job_word(rec.state)
            assert resp.headers["ETag"] == core.document(rec, dialect)[1]
        elif route.kind is Kind.LIST:
            item = dialect.listed(dialect.render(rec, seen), seen)
            assert doc == dialect.page([item], 1, 50, 0), where
            valid(doc, dialect.page_schema())
        elif route.kind is Kind.RESOURCE:
            assert doc == dialect.resource(rec, seen), where
            valid(doc, dialect.resource_schema())
        else:
            assert route.kind is Kind.INFO and route.info is not None
            assert doc == route.info(), where
            if route.info_schema is not None:
                valid(doc, dict(route.info_schema))


ACTIONS = [
    pytest.param(d, r, id=f"{d.name}:{r.action}")
    for d in DIALECTS.values()
    for r in d.routes
    if r.kind is Kind.ACTION
]


@pytest.mark.parametrize(("dialect", "route"), ACTIONS)
def test_an_action_is_answered_as_declared_where_allowed_and_409_where_not(dialect, route):
    h = Harness()
    _, rec, shown = submit(h, dialect)
    before = rec.state
    resp = h.call("POST", fill(route, shown))
    if dialect.allows(route.action, before):
        seen = h.core.seen(rec, dialect)
        expected = dialect.acted(rec, seen, dialect.render(rec, seen))
        assert resp.status == expected.status and body(resp) == expected.doc
        assert {k: resp.headers[k] for k in expected.headers} == expected.headers
        valid(body(resp), dialect.acted_schema())
    else:
        shaped(dialect, resp, 409)
    # an ended job: no dialect allows an action on it
    _, done, shown = submit(h, dialect, {"template": "chain", "duration": "1s"})
    h.sleep(10)
    h.call("GET", fill(first(dialect, Kind.STATUS), shown))
    assert done.state in (JobState.SUCCEEDED,) and not dialect.allows(route.action, done.state)
    shaped(dialect, h.call("POST", fill(route, shown)), 409)


def test_the_same_job_has_a_distinct_etag_in_every_dialect():
    h = Harness()
    h.doc("POST", fill(first(next(iter(DIALECTS.values())), Kind.SUBMIT)), JOB)
    rec = h.core.model.records[1]
    etags = [h.core.document(rec, d)[1] for d in DIALECTS.values()]
    assert len(set(etags)) == len(DIALECTS)


# --- refusals -----------------------------------------------------------------------------


def templates(dialect: Dialect) -> dict[str, set[str]]:
    """Each path template of the dialect -> the methods it declares there."""
    out: dict[str, set[str]] = {}
    for route in dialect.routes:
        out.setdefault(route.path, set()).add(route.method)
    return out


@ALL
def test_a_method_a_path_does_not_declare_is_405_with_allow(dialect):
    h = Harness()
    _, _, shown = submit(h, dialect)
    for template, methods in templates(dialect).items():
        path = template.replace("{id}", shown).replace("{project}", PROJECT)
        for method in sorted({"GET", "POST", "PUT", "DELETE", "PATCH"} - methods):
            resp = h.call(method, path)
            shaped(dialect, resp, 405)
            assert resp.headers["Allow"] == ", ".join(sorted(methods)), (method, template)


PROJECTS = [d for d in DIALECTS.values() if any("{project}" in r.path for r in d.routes)]


@pytest.mark.parametrize("dialect", PROJECTS, ids=[d.name for d in PROJECTS])
def test_a_project_is_the_tenant_of_the_token_and_any_for_the_admin(dialect):
    h = Harness()
    _, rec, shown = submit(h, dialect)
    status = first(dialect, Kind.STATUS)
    other = "beta"  # tok-b's tenant
    shaped(dialect, h.call("GET", fill(status, shown, other)), 404)  # alpha in beta's
    shaped(dialect, h.call("GET", fill(status, shown, other), token="tok-b"), 404)
    assert h.call("GET", fill(status, shown)).status == 200
    assert h.call("GET", fill(status, shown), token=ADMIN).status == 200
    # the admin in a project acts for it: a job of alpha's is not beta's
    shaped(dialect, h.call("GET", fill(status, shown, other), token=ADMIN), 404)
    made = len(h.core.model.records)
    submitting = first(dialect, Kind.SUBMIT)
    shaped(dialect, h.call("POST", fill(submitting, "", other), JOB), 404)
    assert len(h.core.model.records) == made  # nothing made in another's project
    resp = h.call("POST", fill(submitting, "", other), JOB, token=ADMIN)
    assert resp.status < 300 and h.core.model.records[made + 1].tenant == other
    assert rec.tenant == PROJECT


def status_path(h: Harness, dialect: Dialect, shown: str) -> str:
    return fill(first(dialect, Kind.STATUS), shown)


@ALL
def test_401_404_400_413_and_422_are_in_the_dialects_shape(dialect):
    h = Harness()
    _, rec, shown = submit(h, dialect)
    path = status_path(h, dialect, shown)
    shaped(dialect, h.call("GET", path, token="nope"), 401)
    shaped(dialect, h.call("GET", path, token=None, headers={"Authorization": "Basic eDp5"}), 401)
    if not dialect.anonymous:
        shaped(dialect, h.call("GET", path, token=None), 401)
    missing = dialect.show_id(rec.id + 1000, h.core.seed)
    shaped(dialect, h.call("GET", status_path(h, dialect, missing)), 404)
    shaped(dialect, h.call("GET", path + "/nowhere"), 404)
    shaped(dialect, h.call("GET", path, query={"wait": "soon"}), 400)
    submitting = fill(first(dialect, Kind.SUBMIT))
    shaped(dialect, h.call("POST", submitting, {"colour": "red"}), 422)
    shaped(dialect, h.call("POST", submitting, b"{not json"), 400)
    shaped(dialect, h.call("POST", submitting, b"x" * 70_000), 413)


@ALL
def test_429_is_in_the_dialects_shape_past_the_jobs_held_and_the_rate_limit(dialect):
    h = Harness(max_jobs=1)
    _, _, shown = submit(h, dialect)
    shaped(dialect, h.call("POST", fill(first(dialect, Kind.SUBMIT)), JOB), 429)
    limit = {"rate_limit": {"rate": "1/s", "burst": 1}}
    assert h.call("PUT", "/_admin/faults", limit, token=ADMIN).status == 200
    path = status_path(h, dialect, shown)
    answers = [h.call("GET", path) for _ in range(3)]
    assert answers[0].status == 200
    assert shaped(dialect, answers[2], 429) and answers[2].headers["Retry-After"] == "1"
    row = h.core.report()["jobs"][0]
    assert row["polls"] == 3  # the refused polls are the job's too


@ALL
def test_an_injected_503_and_an_outage_are_in_the_dialects_shape(dialect):
    h = Harness()
    _, _, shown = submit(h, dialect)
    path = status_path(h, dialect, shown)
    assert h.call("PUT", "/_admin/faults", {"errors": {"503": 1.0}}, token=ADMIN).status == 200
    injected = h.call("GET", path)
    assert shaped(dialect, injected, 503) and injected.error[0] == "injected"
    outage = {"errors": {}, "outages": [{"start": 0, "duration": "1h", "mode": "503"}]}
    assert h.call("PUT", "/_admin/faults", outage, token=ADMIN).status == 200
    down = h.call("GET", path)
    assert shaped(dialect, down, 503) and int(down.headers["Retry-After"]) >= 1


@ALL
def test_a_malformed_answer_is_the_dialects_document_cut_short(dialect):
    h = Harness()
    _, rec, shown = submit(h, dialect)
    assert h.call("PUT", "/_admin/faults", {"malformed": 1.0}, token=ADMIN).status == 200
    resp = h.call("GET", status_path(h, dialect, shown))
    whole = h.core.document(rec, dialect)[0]
    assert resp.status == 200 and whole.startswith(resp.body) and len(resp.body) < len(whole)
    with pytest.raises(ValueError):
        json.loads(resp.body)


def test_paths_of_no_dialect_keep_pollsims_own_error_shape():
    h = Harness()
    for method, path, status in [
        ("GET", "/nowhere", 404),
        ("POST", "/healthz", 405),
        ("GET", "/_admin/report", 401),
    ]:
        resp = h.call(method, path, token=None)
        assert resp.status == status and set(body(resp)) == {"error", "message"}


@ALL
def test_metrics_label_a_dialects_requests_by_its_name(dialect):
    h = Harness()
    submit(h, dialect)
    for route in dialect.routes:
        assert h.core.dialect_of(fill(route, "1")) == dialect.name
    counted = {code for name, code in h.core.truth.requests if name == dialect.name}
    assert counted and counted <= {200, 201, 202}


# --- the front's own refusals, through aiohttp on a loopback port, in process --------------


async def _exchange(core, spec, raw: bytes, admission=None) -> Reply:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(make_server(core, spec, admission), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(raw)
        await writer.drain()
        top = await reader.readuntil(b"\r\n\r\n")
        lines = top.decode("latin-1").split("\r\n")
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])
        }
        body = await reader.readexactly(int(headers.get("content-length", 0)))
        writer.close()
        return Reply(int(lines[0].split()[1]), headers, body)
    finally:
        server.close()


def _raw(method: str, path: str, body: bytes = b"", **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Authorization: Bearer tok-a"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _core():
    spec = MockSpec(tokens={"tok-a": PROJECT}, admin_token=ADMIN)
    return build_core(load_scenario(QA), spec), spec


def _front_shaped(dialect: Dialect, reply: Reply, status: int, kind: str) -> None:
    assert reply.status == status, reply
    doc = json.loads(reply.body)
    valid(doc, dialect.error_schema())
    # the message is the front's; the rest is the dialect's rendering of the kind
    again = dialect.error(status, kind, "")
    assert _skeleton(doc) == _skeleton(again)


def _skeleton(doc: object) -> object:
    """A document's shape and the values that are not prose (messages differ)."""
    if isinstance(doc, dict):
        return {k: _skeleton(v) for k, v in doc.items() if "message" not in k.lower()}
    if isinstance(doc, list):
        return [_skeleton(v) for v in doc]
    return doc


@ALL
def test_the_fronts_refusals_and_our_own_500_are_in_the_dialects_shape(dialect):
    async def go():
        core, spec = _core()
        submitting = fill(first(dialect, Kind.SUBMIT))
        coded = _raw("POST", submitting, b"{}", Content_Encoding="zz")
        _front_shaped(dialect, await _exchange(core, spec, coded), 415, "unsupported_encoding")
        from mock_server.app import admission_for

        full = admission_for(spec)
        full.in_flight = full.max_concurrency  # no slot left
        busy = await _exchange(core, spec, _raw("POST", submitting, b"{}"), full)
        _front_shaped(dialect, busy, 503, "overloaded")
        assert busy.headers["retry-after"] == "1"

        def broken(req, held=False, decision=None):
            raise RuntimeError("a bug of ours")

        core.handle = broken
        bug = await _exchange(core, spec, _raw("POST", submitting, b"{}"))
        _front_shaped(dialect, bug, 500, "internal")
        assert core.truth.server_errors[dialect.name] == 1

    asyncio.run(go())


@ALL
def test_a_long_poll_refused_for_want_of_a_place_is_a_429_in_the_dialects_shape(dialect):
    async def go():
        core, spec = _core()
        made = core.handle(_request("POST", fill(first(dialect, Kind.SUBMIT)), JOB))
        headers = {k.lower(): v for k, v in made.headers.items()}
        shown = dialect.new_job(made.status, headers, json.loads(made.body))
        from mock_server.app import admission_for

        full = admission_for(spec)
        full.long_polls = full.long_polls_max  # every long-poll's place taken
        path = fill(first(dialect, Kind.STATUS), shown) + "?wait=5"
        refused = await _exchange(core, spec, _raw("GET", path), full)
        _front_shaped(dialect, refused, 429, "long_polls_total")
        assert core.truth.requests[dialect.name, 429] == 1

    asyncio.run(go())


def _request(method: str, path: str, doc: dict):
    from mock_server.responses import Request

    return Request(method, path, {}, {"authorization": "Bearer tok-a"}, json.dumps(doc).encode())


@ALL
def test_the_status_shortcut_serves_every_dialect_whose_status_is_a_literal_base_and_id(dialect):
    """The shortcut (``Core._plain_status``) answers there without the general routing;
    elsewhere (a ``{project}`` in the path) the general path answers."""
    h = Harness()
    _, _, shown = submit(h, dialect)
    base, _, last = first(dialect, Kind.STATUS).path.rpartition("/")
    literal = last == "{id}" and "{" not in base

    def general(*args):
        raise AssertionError("the general path")

    h.core._dialect = general
    path = status_path(h, dialect, shown)
    if literal:
        assert h.call("GET", path).status == 200
    else:
        with pytest.raises(AssertionError, match="the general path"):
            h.call("GET", path)


def test_the_banner_lists_every_dialect_where_a_client_starts():
    core, spec = _core()
    from mock_server.app import banner

    text = banner(core, "http://127.0.0.1:9", spec)
    for dialect in DIALECTS.values():
        (line,) = [x for x in text.splitlines() if x.split()[:1] == [dialect.name]]
        assert line.split()[1] == "http://127.0.0.1:9" + entry(dialect)
        assert line.endswith("(no token needed)") == dialect.anonymous


# --- against a real pollsim serve ----------------------------------------------------------


@pytest.mark.live
def test_a_real_server_serves_every_dialect_from_its_banner():
    """``pollsim serve`` as users start it: the banner names every dialect's entry path;
    a job submitted in each is polled to its end there; absolute links name the server's
    own URL; a missing job's 404 is in the dialect's shape."""
    from tests.mock_server.server import call, start

    server = start(20)
    try:
        lines = []
        while not lines or lines[-1] != "Ctrl-C stops.":
            lines.append(server.process.stdout.readline().strip())
        for dialect in DIALECTS.values():
            assert f"{dialect.name} {server.url}{entry(dialect)}" in " ".join(
                " ".join(line.split()) for line in lines
            )
            made = call(server, "POST", fill(first(dialect, Kind.SUBMIT)), {"duration": "1s"})
            assert made.status < 300, made.body
            headers = {k.lower(): v for k, v in made.headers.items()}
            links = [v for v in headers.values() if v.startswith("http")]
            assert all(v.startswith(server.url + "/") for v in links), links
            shown = dialect.new_job(made.status, headers, made.json)
            path = fill(first(dialect, Kind.STATUS), shown)
            for _ in range(400):  # 2 simulated seconds: a tenth of a wall second
                polled = call(server, "GET", path)
                assert polled.status == 200, polled.body
                if dialect.read(polled.json).state.terminal:
                    break
                time.sleep(0.01)
            assert dialect.read(polled.json).state is JobState.SUCCEEDED
            missing = "0" if dialect.read_id("0", 0) is not None else shown[:-1] + "x"
            gone = call(server, "GET", fill(first(dialect, Kind.STATUS), missing))
            assert gone.status == 404
            assert gone.json == dialect.error(404, "not_found", f"no job {missing}")
    finally:
        server.stop()
