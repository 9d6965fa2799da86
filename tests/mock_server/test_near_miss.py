"""Near misses on 404s, in process (issue 14): another tenant's job, another dialect's
way of writing an id or shape of path, a route a letter away, a prefix that names no
dialect. Each hint is in the dialect's own error shape, leaks no other tenant's name
to a non-admin, quotes hostile text safely, and is made on the 404 path alone."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import validate

import mock_server.core as core_module
from mock_server.near_miss import SERVED, no_route
from mock_server.responses import Response
from sim.dialects import DIALECTS, Dialect, Kind
from tests.mock_server.helpers import ADMIN, Harness

TENANT_OF = {"tok-a": "alpha", "tok-b": "beta"}
TOKENS = ["tok-a", "tok-b", ADMIN, None]


def submit(h: Harness, dialect: Dialect, token: str | None = "tok-a") -> str:
    """A job made through ``dialect`` as ``token``'s tenant; its id as the dialect shows it."""
    project = TENANT_OF.get(token or "", "")
    r = h.call("POST", dialect.path(Kind.SUBMIT, project=project), {"template": "chain"}, token)
    assert isinstance(r, Response) and r.status < 300, r.body
    headers = {k.lower(): v for k, v in r.headers.items()}
    return dialect.new_job(r.status, headers, json.loads(r.body))


def not_found(h: Harness, dialect: Dialect | None, path: str, token="tok-a", method="GET"):
    """The 404's message, its body checked to be in ``dialect``'s error shape."""
    r = h.call(method, path, token=token)
    assert isinstance(r, Response) and r.status == 404, (path, r)
    doc = json.loads(r.body)
    if dialect is None:
        assert set(doc) == {"error", "message"} and doc["error"] == "not_found"
        return doc["message"]
    validate(doc, dialect.error_schema())
    assert dialect.error_kind(doc) == "not_found"
    message = dialect.error(404, "not_found", "\x00")  # where the message sits in its shape
    return _at(doc, _path_to(message, "\x00"))


def _path_to(node, value, at=()):
    if node == value:
        return at
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in items:
        found = _path_to(child, value, (*at, key))
        if found is not None:
            return found
    return None


def _at(doc, keys):
    for key in keys:
        doc = doc[key]
    return doc


@pytest.mark.parametrize("name", list(DIALECTS))
def test_another_tenants_job_is_said_to_exist_without_naming_the_tenant(name):
    dialect = DIALECTS[name]
    h = Harness()
    theirs = submit(h, dialect, "tok-b")
    path = dialect.path(Kind.STATUS, theirs, "alpha")
    message = not_found(h, dialect, path)
    assert "exists, but under another tenant; your token is tenant alpha's" in message
    assert "beta" not in message
    # the admin sees it; an action on it is refused the same way, and nothing is done
    assert h.call("GET", dialect.path(Kind.STATUS, theirs, "beta"), token=ADMIN).status == 200
    for route in dialect.routes:
        if route.kind is Kind.ACTION:
            acted = route.path.replace("{id}", theirs).replace("{project}", "alpha")
            assert "under another tenant" in not_found(h, dialect, acted, method="POST")
    status = h.call("GET", dialect.path(Kind.STATUS, theirs, "beta"), token="tok-b")
    assert dialect.read(json.loads(status.body)).state.value in ("queued", "running")


def test_a_job_id_nobody_has_is_still_just_not_found_and_an_anonymous_request_learns_no_tenant():
    h = Harness()
    for dialect in DIALECTS.values():
        if dialect.read_id("99", 0) is not None:
            assert not_found(h, dialect, dialect.path(Kind.STATUS, "99", "alpha")) == "no job 99"
    anonymous = next(d for d in DIALECTS.values() if d.anonymous)
    alphas = submit(h, anonymous, "tok-a")
    message = not_found(h, anonymous, anonymous.path(Kind.STATUS, alphas), token=None)
    assert "exists, but under a tenant" in message and "without a token" in message
    assert "alpha" not in message and "token is tenant" not in message
    mine = submit(h, anonymous, None)  # a job without a token: anonymous sees its own
    assert h.call("GET", anonymous.path(Kind.STATUS, mine), token=None).status == 200
    # a tenant asking for the anonymous job is told it is not theirs, and no more
    message = not_found(h, anonymous, anonymous.path(Kind.STATUS, mine))
    assert "under another tenant" in message and "anonymous" not in message


def test_another_dialects_way_of_writing_an_id_is_answered_with_this_dialects():
    h = Harness()
    by_form: dict[str, Dialect] = {}
    for dialect in DIALECTS.values():  # one dialect per way of writing an id
        by_form.setdefault(dialect.show_id(1, h.core.seed), dialect)
    assert len(by_form) >= 2, "every dialect writes ids one way: nothing to miss"
    forms = list(by_form.items())
    submit(h, forms[0][1])  # job 1, alpha's
    for shown, dialect in forms:
        for other_shown, other in forms:
            if other_shown == shown:
                continue
            message = not_found(h, dialect, dialect.path(Kind.STATUS, other_shown, "alpha"))
            right = dialect.path(Kind.STATUS, shown, "alpha")
            assert "that is job 1's id in " in message and right in message
            assert other.name in message.split("which")[0]
            assert h.call("GET", right).status == 200  # the hint's path answers
    # the admin, who sees every job, gets the same hint
    (shown, dialect), (other_shown, other) = forms[0], forms[1]
    admin = not_found(h, dialect, dialect.path(Kind.STATUS, other_shown, "alpha"), token=ADMIN)
    assert "that is job 1's id in " in admin and other.name in admin, admin
    # another tenant's job in another dialect's form: still only "another tenant's"
    (shown, dialect), (other_shown, _) = forms[0], forms[1]
    submit(h, dialect, "tok-b")  # job 2, beta's
    theirs = forms[1][1].show_id(2, h.core.seed)
    message = not_found(h, dialect, dialect.path(Kind.STATUS, theirs, "alpha"))
    assert "under another tenant" in message and dialect.show_id(2, h.core.seed) not in message


def test_a_project_not_the_tokens_own_gets_the_same_hint_whether_or_not_it_exists():
    projected = [d for d in DIALECTS.values() if any("{project}" in r.path for r in d.routes)]
    h = Harness()
    for dialect in projected:
        submit(h, dialect, "tok-b")
        beta = not_found(h, dialect, dialect.path(Kind.STATUS, "1", "beta").replace("/1", "/x"))
        nobody = not_found(h, dialect, dialect.path(Kind.STATUS, "1", "zzzz").replace("/1", "/x"))
        assert beta.replace("beta", "zzzz") == nobody
        assert "your token is tenant alpha's: its project is alpha" in beta
        # the admin is told whose the job is, with the path that shows it
        shown = dialect.show_id(1, h.core.seed)
        message = not_found(h, dialect, dialect.path(Kind.STATUS, shown, "alpha"), token=ADMIN)
        right = dialect.path(Kind.STATUS, shown, "beta")
        assert "tenant beta's" in message and right in message
        assert h.call("GET", right, token=ADMIN).status == 200


@pytest.mark.parametrize("name", list(DIALECTS))
def test_a_status_path_a_letter_off_is_pointed_at_the_real_one(name):
    dialect = DIALECTS[name]
    h = Harness()
    shown = submit(h, dialect)
    right = dialect.path(Kind.STATUS, shown, "alpha")
    parts = right.strip("/").split("/")
    for i, part in enumerate(parts):
        if part in (shown, "alpha") or len(part) < 3:
            continue
        for slip in (part[:-1], part + "s", part.upper()):
            wrong = "/" + "/".join([*parts[:i], slip, *parts[i + 1 :]])
            if h.call("GET", wrong).status == 200:
                continue
            message = not_found(h, dialect if i else None, wrong)
            assert f"GET {right}" in message, (wrong, message)
    assert h.call("GET", right).status == 200


def test_a_path_in_another_dialects_shape_names_that_dialect_and_this_ones_route():
    statuses = {d.name: d.path(Kind.STATUS, "1", "alpha") for d in DIALECTS.values()}
    checked = 0
    for dialect in DIALECTS.values():
        mine = statuses[dialect.name].strip("/").split("/")
        for other, path in statuses.items():
            theirs = path.strip("/").split("/")
            if other == dialect.name or theirs[1:] == mine[1:] or len(theirs) != len(mine):
                continue
            wrong = "/" + "/".join([mine[0], *theirs[1:]])
            if not any(ch.isalpha() for ch in "".join(theirs[1:-1])):
                continue
            message = no_route(wrong, 0)
            assert f"{other}'s" in message, (wrong, message)
            checked += 1
    assert checked > 0


def test_a_prefix_that_names_no_dialect_lists_where_each_is_served():
    h = Harness()
    for path in ("/", "/nowhere", "/x/y/z/1/2/3/4/5/6", "/%2e%2e"):
        message = not_found(h, None, path)
        assert SERVED in message
        for dialect in DIALECTS.values():
            assert f"({dialect.name})" in message
    # a dialect's name where its prefix should be: the prefix
    for dialect in DIALECTS.values():
        prefix = dialect.routes[0].path.strip("/").split("/")[0]
        if prefix == dialect.name:
            continue
        tail = dialect.path(Kind.STATUS, dialect.show_id(1, 0), "alpha").strip("/").split("/")
        message = no_route("/" + "/".join([dialect.name, *tail[1:]]), 0)
        assert f"{dialect.name}'s paths begin /{prefix}" in message, message
    assert "did you mean /_admin/requests?" in no_route("/__admin/requests", 0)  # WireMock's
    assert no_route("/healthz/now", 0).endswith("did you mean /healthz?")
    assert "/ordo/jobs/1" in no_route("/jobs/1", 0)  # a prefix left out


@pytest.mark.parametrize(
    "path",
    [
        "/ordo/tasks/\x00\x1b[31m",
        "/ordo/tasks/" + "9" * 5000,
        "/ordo/t\u0430sks/1",  # a Cyrillic a
        "/ordo/jobs/../../etc/passwd",
        "/ordo/./jobs/1",
        "/%2e%2e/ordo/jobs/1",
        "/\u202eordo/jobs/1",  # right-to-left override
        "/ordo/" + "\U0001f600" * 3000,
        "/" + "/".join(["ordo"] * 500),
        "/v1/projects/\x00/operations/1",
        "/v1/projects/" + "a" * 300 + "/operation/1",
    ],
)
def test_a_hostile_path_gets_a_short_printable_hint_that_repeats_nothing_unsafe(path):
    h = Harness()
    message = not_found(h, core_module.dialect_at(path), path)
    assert message.isprintable() and len(message) < 1200, message
    assert "\x00" not in message and "\x1b" not in message and "\u202e" not in message
    hint = message.split("; ", 1)[1]  # past the path quoted back
    for suggested in (w for w in hint.split() if w.startswith("/") and "{" not in w):
        # a suggested path carries only segments a dialect reads as an id or a name
        assert suggested.rstrip("?,;)").isascii(), message


def test_an_answered_request_never_looks_for_a_near_miss(monkeypatch):
    def boom(*args, **kw):
        raise AssertionError("near-miss work on an answered request")

    h = Harness()
    shown = {d.name: submit(h, d) for d in DIALECTS.values()}
    for name in ("no_route", "no_job", "no_project"):
        monkeypatch.setattr(core_module, name, boom)
    for dialect in DIALECTS.values():
        path = dialect.path(Kind.STATUS, shown[dialect.name], "alpha")
        assert h.call("GET", path).status == 200
        assert h.call("GET", path, query={"wait": "0"}).status == 200
        assert h.call("GET", dialect.path(Kind.LIST, project="alpha")).status == 200
    assert h.call("GET", "/healthz").status == 200


def test_a_job_of_the_run_before_a_reset_is_said_to_be_in_any_way_of_writing_its_id():
    from mock_server.admin_reset import reset

    h = Harness()
    shown = {d.name: submit(h, d) for d in DIALECTS.values()}
    reset(h.core)
    for dialect in DIALECTS.values():
        for text in {shown[dialect.name], dialect.show_id(1, h.core.seed), "1"}:
            message = not_found(h, dialect, dialect.path(Kind.STATUS, text, "alpha"))
            assert message == f"no job {text}: it was made before the server's last reset"
    fresh = submit(h, next(iter(DIALECTS.values())))  # ids go on: never an old one's
    assert fresh not in shown.values()


_LITERALS = sorted({p for d in DIALECTS.values() for r in d.routes for p in r.path.split("/")})
_SEGMENT = st.one_of(
    st.sampled_from(_LITERALS),
    st.sampled_from(_LITERALS).map(lambda s: s[1:] + s[:1]),  # letters moved
    st.sampled_from(["1", "2", "alpha", "beta", "..", ".", "x:cancel", "1:cancel"]),
    st.text(min_size=1, max_size=60).filter(lambda s: "/" not in s),
)


@settings(max_examples=300, deadline=None)
@given(segments=st.lists(_SEGMENT, min_size=0, max_size=12), token=st.sampled_from(TOKENS))
def test_any_path_is_answered_and_a_404_hint_stays_short_and_printable(segments, token):
    h = _SHARED
    path = "/" + "/".join(segments)
    for method in ("GET", "POST"):
        r = h.call(method, path, token=token)
        if not isinstance(r, Response) or r.status != 404:
            continue
        message = not_found(h, core_module.dialect_at(path), path, token=token, method=method)
        assert message.isprintable() and len(message) < 1200, message
        assert message.startswith(("no such", "no job", "job ")), message


_SHARED = Harness()  #: one job of each tenant, for the property test
for _token in ("tok-a", "tok-b"):
    _SHARED.call("POST", "/ordo/jobs", {"template": "chain"}, _token)


def test_a_long_poll_held_over_a_reset_is_answered_at_once_with_the_reset_said():
    from mock_server.admin_reset import reset

    h = Harness()
    shown = submit(h, next(iter(DIALECTS.values())))
    dialect = next(iter(DIALECTS.values()))
    path = dialect.path(Kind.STATUS, shown, "alpha")
    hold = h.call("GET", path, query={"wait": "30"})
    assert isinstance(hold, core_module.Hold)
    reset(h.core)
    assert h.core.changed(hold) == 0.0  # the job is no more: answer now
    message = not_found(h, dialect, path)  # the front asks again, and is told why
    assert message.endswith("it was made before the server's last reset")
