"""A tenant's name is a URL path segment (a ``{project}`` in some dialects' paths): one
that could never be used there is refused where tokens are read, before the server
listens, in one line naming where the name came from and what was expected."""

from __future__ import annotations

import pytest

from pollsim.cli import main
from pollsim.credentials import CredentialError, tenant_tokens
from sim._reader import Reader, ScenarioError
from sim.mock_spec import RESERVED_TENANTS, TENANT_RULE, read_serve, tenant_problem

#: names a path segment cannot carry as they are, or that a URL would not keep
REFUSED = [
    "x:y",  # ':' ends a google segment's resource name (``{id}:cancel``)
    "a/b",  # a separator
    "p%q",  # an escape
    "a b",
    "a?b",
    "a#b",
    "a~b",  # unreserved in RFC 3986, but some servers and clients still encode it
    "é",
    "\uff41",  # a fullwidth a
    ".hidden",
    ".",
    "..",
    "x" * 64,
    "x" * 1000,
]
ACCEPTED = ["qa", "alpha", "team-7", "my_team", "v1.2", "A", "0", "-x", "_", "x" * 63]


@pytest.mark.parametrize("name", REFUSED)
def test_a_name_that_is_no_url_path_segment_is_refused(name):
    assert tenant_problem(name) == f"not usable as a URL path segment; expected {TENANT_RULE}"


@pytest.mark.parametrize("name", ACCEPTED)
def test_a_url_safe_name_is_accepted(name):
    assert tenant_problem(name) is None
    assert tenant_tokens([f"{name}=tok"], [], {}) == {"tok": name}
    assert read_serve(Reader({"tokens": {name: "tok"}}, "x.toml", "serve")).tokens == {"tok": name}


@pytest.mark.parametrize("name", [*RESERVED_TENANTS, "Admin", "BACKGROUND"])
def test_the_reserved_names_stay_reserved(name):
    assert tenant_problem(name).startswith("a reserved name")


def test_each_source_of_tokens_is_named(tmp_path):
    with pytest.raises(CredentialError, match=r"^--token 'x:y=t': tenant 'x:y' is not usable"):
        tenant_tokens(["x:y=t"], [], {})
    file = tmp_path / "tokens"
    file.write_text("# ours\nqa=t1\na/b=t2\n")
    with pytest.raises(CredentialError, match=rf"^{file}:3: tenant 'a/b' is not usable"):
        tenant_tokens([], [file], {})
    env = {"POLLSIM_TOKENS": "qa=t1, p%q=t2"}
    with pytest.raises(CredentialError, match=r"^POLLSIM_TOKENS item 2: tenant 'p%q' is not"):
        tenant_tokens([], [], env)
    with pytest.raises(ScenarioError, match=r"^x.toml: serve.tokens.é: not usable as a URL"):
        read_serve(Reader({"tokens": {"é": "t"}}, "x.toml", "serve"))


def test_a_token_without_a_tenant_is_still_named_for_its_place():
    """``TOKEN`` alone names no tenant: the server names it, by a rule that passes."""
    tokens = tenant_tokens(["t1", "t2"], [], {})
    assert tokens == {"t1": "default", "t2": "tenant2"}
    assert all(tenant_problem(t) is None for t in tokens.values())


def test_a_long_name_is_cut_short_in_the_message():
    with pytest.raises(ScenarioError) as caught:
        read_serve(Reader({"tokens": {"y" * 1000: "t"}}, "x.toml", "serve"))
    assert "(1000 characters)" in str(caught.value) and len(str(caught.value)) < 300


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--token", "x:y=tok-c"], "--token 'x:y=tok-c': tenant 'x:y' is not usable as a URL"),
        (["--token", "a/b=tok-d"], "tenant 'a/b' is not usable as a URL path segment"),
        (["--token", "qa=t", "--token", "p%q=u"], "tenant 'p%q' is not usable"),
    ],
)
def test_serve_refuses_them_in_one_line_exit_2(capsys, args, words):
    assert main(["serve", *args, "--port", "0"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and len(out.err.splitlines()) == 1, out.err
    assert words in out.err and TENANT_RULE in out.err


def test_serve_refuses_them_in_a_scenario_file(tmp_path, capsys):
    scenario = tmp_path / "s.toml"
    scenario.write_text("[serve.tokens]\n'x:y' = 'tok'\n")
    assert main(["serve", str(scenario), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert f"{scenario}: serve.tokens.x:y: not usable as a URL path segment" in err, err
