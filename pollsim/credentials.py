"""Where ``pollsim serve`` takes its bearer tokens from. A token on the command line shows
in ``ps`` to every user of the machine; a file (``--token-file``, ``--admin-token-file``)
or the environment (``POLLSIM_TOKENS``, ``POLLSIM_ADMIN_TOKEN``) does not.

Each token is written ``[TENANT=]TOKEN`` (the tenant ends at the first ``=``; its name is
a URL path segment, ``sim.mock_spec.TENANT_RULE``, as some dialects' paths hold it): on the
command line, one per line of a token file (blank lines and ``#`` comments skipped), or
comma-separated in ``POLLSIM_TOKENS``. The command line and files win over the
environment, which wins over the scenario's ``[serve.tokens]``.

>>> tenant_tokens(["qa=s3cret"], [], {})
{'s3cret': 'qa'}
>>> tenant_tokens([], [], {"POLLSIM_TOKENS": "a=1, b=2"})
{'1': 'a', '2': 'b'}
>>> tenant_tokens(["anonymous=x"], [], {})
Traceback (most recent call last):
pollsim.credentials.CredentialError: --token 'anonymous=x': tenant 'anonymous' is a reserved ...
>>> tenant_tokens(["x:y=tok"], [], {})
Traceback (most recent call last):
pollsim.credentials.CredentialError: --token 'x:y=tok': tenant 'x:y' is not usable as a URL path ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from sim.mock_spec import shown_tenant, tenant_problem

ENV_TOKENS = "POLLSIM_TOKENS"  #: comma-separated [TENANT=]TOKEN
ENV_ADMIN = "POLLSIM_ADMIN_TOKEN"
MAX_FILE = 1 << 20  #: bytes a token file may hold


class CredentialError(ValueError):
    """Tokens that cannot be used, in one line: where, what, what was expected."""


def tenant_tokens(
    flags: Sequence[str], files: Sequence[Path], environ: Mapping[str, str]
) -> dict[str, str]:
    """Token -> tenant from ``--token`` flags, token files or else ``POLLSIM_TOKENS``
    (empty: none given)."""
    entries = [(text, f"--token {text!r}") for text in flags]
    for path in files:
        lines = _lines(path)
        if not lines:  # a file meant to hold the tokens: not a quiet fall back to random ones
            raise CredentialError(f"{path}: holds no token; expected lines of [TENANT=]TOKEN")
        entries += lines
    if not entries and ENV_TOKENS in environ:
        items = environ[ENV_TOKENS].split(",")
        entries = [
            (t.strip(), f"{ENV_TOKENS} item {i}") for i, t in enumerate(items, 1) if t.strip()
        ]
        if not entries:
            raise CredentialError(
                f"{ENV_TOKENS} is set but holds no token; expected comma-separated [TENANT=]TOKEN"
            )
    tokens: dict[str, str] = {}
    for i, (text, where) in enumerate(entries):
        tenant, sep, token = text.partition("=")
        tenant, token = (tenant.strip(), token.strip()) if sep else ("", tenant.strip())
        if not token or (sep and not tenant):
            raise CredentialError(f"{where}: expected TOKEN or TENANT=TOKEN")
        problem = tenant_problem(tenant) if sep else None
        if problem is not None:
            raise CredentialError(f"{where}: tenant {shown_tenant(tenant)} is {problem}")
        if token in tokens:
            raise CredentialError(f"{where}: this token is given twice; one tenant a token")
        tokens[token] = tenant or ("default" if i == 0 else f"tenant{i + 1}")
    return tokens


def admin_token(flag: str | None, file: Path | None, environ: Mapping[str, str]) -> str | None:
    """The admin token from ``--admin-token``, ``--admin-token-file`` or else
    ``POLLSIM_ADMIN_TOKEN`` (None: none given)."""
    if flag is not None:
        if not flag.strip():
            raise CredentialError("--admin-token: found '', expected a token")
        return flag
    if file is not None:
        lines = _lines(file)
        if len(lines) != 1:
            found = len(lines)
            raise CredentialError(
                f"{file}: expected one line holding the admin token, found {found}"
            )
        return lines[0][0]
    if ENV_ADMIN in environ and not environ[ENV_ADMIN].strip():
        raise CredentialError(f"{ENV_ADMIN} is set but holds no token")
    return environ.get(ENV_ADMIN, "").strip() or None


def _lines(path: Path) -> list[tuple[str, str]]:
    """A token file's lines that say something, each with where it is."""
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_FILE + 1)
    except OSError as exc:
        raise CredentialError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE:
        raise CredentialError(f"{path}: more than {MAX_FILE} bytes; expected a few tokens")
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark some editors write: not a token
    except UnicodeDecodeError:
        raise CredentialError(f"{path}: not UTF-8; expected lines of [TENANT=]TOKEN") from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            out.append((line, f"{path}:{n}"))
    return out
