"""A small client of a running ``pollsim serve``: submit a job, and the admin API (reset,
faults, the ground truth, the request journal, the jobs), with the standard library's
``urllib`` alone, so that the pytest plugin adds no dependency to a user's test run.

Every method returns the answer's JSON; an answer other than 2xx raises
``PollsimHTTPError`` carrying the status and the server's JSON error message.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field


def submit_path(dialect: str | None, project: str) -> str:
    """Where ``dialect`` (default: the scenario files' default, ordo) takes a submission,
    ``{project}`` filled in with the tenant (google-lro). The routes are the server's own
    (``sim.dialects``), imported when a job is first submitted, not when the plugin loads."""
    from sim.dialects import DIALECTS, ORDO, Kind

    name = dialect or ORDO.name
    if name not in DIALECTS:
        raise ValueError(f"dialect {name!r}: expected one of {', '.join(DIALECTS)}")
    return DIALECTS[name].path(Kind.SUBMIT, project=urllib.parse.quote(project, safe=""))


class PollsimHTTPError(Exception):
    """An answer other than 2xx from the server: its status and its error message."""

    def __init__(self, method: str, path: str, status: int, body: bytes) -> None:
        self.status = status
        self.body = body
        try:
            shown = json.loads(body)
        except ValueError:
            shown = body[:200].decode("utf-8", "replace")
        super().__init__(f"{method} {path}: {status} {shown}")


@dataclass
class Answer:
    """One HTTP answer as received: status, headers and the raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class PollsimClient:
    """The server's address, its tokens (tenant -> token) and admin token, and calls."""

    url: str
    tokens: dict[str, str]
    admin_token: str
    timeout: float = 30.0  #: seconds per call
    tenant: str = field(default="")  #: whose token ``submit`` uses by default: the first

    def __post_init__(self) -> None:
        self.url = self.url.rstrip("/")
        if not self.tenant and self.tokens:
            self.tenant = next(iter(self.tokens))

    # --- the status API ---------------------------------------------------------------

    def submit(
        self,
        dialect: str | None = None,
        *,
        tenant: str | None = None,
        client_id: str | None = None,
        **fields: object,
    ) -> dict:
        """Submit a job through ``dialect``'s route; ``fields`` are the submission's
        (``outcome``, ``template``, ``duration``, ``durations``...). Returns the
        dialect's answer (ordo: ``answer["job"]["id"]`` is the job's id).

        ``submit(outcome="transient_failures:2", duration="20s")``"""
        tenant = tenant or self.tenant
        path = submit_path(dialect, tenant)
        headers = {"X-Client-Id": client_id} if client_id else None
        return self._json("POST", path, fields, self._token(tenant), headers)

    # --- the admin API ----------------------------------------------------------------

    def reset(self) -> dict:
        """``POST /_admin/reset``: jobs, ground truth, journal, faults and clock as at
        the start (tokens stay)."""
        return self._json("POST", "/_admin/reset", {}, self.admin_token)

    def faults(self, new: Mapping | None = None, /, **keys: object) -> dict:
        """The faults in force (``GET /_admin/faults``); given ``new`` or keys, replace
        them all (``PUT``: the keys of a scenario's ``[faults]``, plus ``outages``).

        ``faults(rate_limit={"rate": 1, "burst": 1})``, ``faults({"errors": {"503": 0.2}})``
        """
        if new is None and not keys:
            return self._json("GET", "/_admin/faults", None, self.admin_token)
        return self._json("PUT", "/_admin/faults", {**(new or {}), **keys}, self.admin_token)

    def report(
        self,
        *,
        client: str | list[str] | None = None,
        job: str | list[str] | None = None,
        until: float | None = None,
        final: bool = True,
    ) -> dict:
        """The ground truth (``GET /_admin/report``): ``jobs`` (a row per client and job),
        ``clients``, ``totals``; only the rows of the clients or jobs given (a value or
        a list).

        ``final`` (default) assumes your client has returned: a job it did not see end
        counts as given up (or errored, if its last answer was an error), never
        unfinished, so ``gave_up == 0`` catches a client that quit. Pass
        ``final=False`` to peek while the client still runs."""
        flag = "true" if final else None
        query = _query(client=client, job=job, until=until, final=flag)
        return self._json("GET", "/_admin/report" + query, None, self.admin_token)

    def requests(
        self,
        *,
        client: str | list[str] | None = None,
        job: str | list[str] | None = None,
        since: float | None = None,
        limit: int | None = None,
    ) -> dict:
        """The request journal (``GET /_admin/requests``): ``requests`` (records with
        ``t``, ``method``, ``path``, ``dialect``, ``client``, ``job_id``, ``job`` (the
        id as the dialect shows it), ``status``, ``retry_after``, ``injected``...),
        ``count``, ``total``, ``dropped``. ``client`` and ``job``: a value or a list."""
        query = _query(client=client, job=job, since=since, limit=limit)
        return self._json("GET", "/_admin/requests" + query, None, self.admin_token)

    def clear_requests(self) -> dict:
        """``DELETE /_admin/requests``: empty the journal."""
        return self._json("DELETE", "/_admin/requests", None, self.admin_token)

    def jobs(self, **filters: object) -> dict:
        """Every job with its states over time (``GET /_admin/jobs``; filters ``client``,
        ``tenant``, ``state``, ``template``, ``limit``)."""
        return self._json("GET", "/_admin/jobs" + _query(**filters), None, self.admin_token)

    def health(self) -> dict:
        """``GET /healthz``: the speed, the scaled clock's epoch and ``now``."""
        return self._json("GET", "/healthz", None, None)

    # --- plumbing ---------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        body: object = None,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Any request, answered whatever its status (``body``: JSON-able, or bytes)."""
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        raw = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        if raw is not None:
            sent.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.url + path, data=raw, method=method, headers=sent)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return Answer(resp.status, dict(resp.headers), resp.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return Answer(exc.code, dict(exc.headers), exc.read())

    def _json(self, method, path, body, token, headers=None) -> dict:
        answer = self.call(method, path, body, token, headers)
        if not 200 <= answer.status < 300:
            raise PollsimHTTPError(method, path, answer.status, answer.body)
        return answer.json()

    def _token(self, tenant: str) -> str:
        if tenant not in self.tokens:
            raise ValueError(f"tenant {tenant!r}: expected one of {', '.join(self.tokens)}")
        return self.tokens[tenant]


def _query(**params: object) -> str:
    """The query string; a list's values each as a parameter of its own (``client=a&
    client=b``), as the admin API takes filters."""
    given = {k: v for k, v in params.items() if v is not None}
    return "?" + urllib.parse.urlencode(given, doseq=True) if given else ""
