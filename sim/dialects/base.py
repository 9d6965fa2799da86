"""What a dialect is: one real status API's words for the canonical states, the actions
it allows, its HTTP surface (routes, ids, answers, errors) and its document model
(render a job, read a document back, its JSON Schema). Pure data and functions, no I/O:
the server routes and renders with it, the OpenAPI document is generated from it, and
the live client reads answers with it.

A dialect is a frozen dataclass; each dialect module subclasses ``Dialect`` for its
document model and makes one instance. Adding a dialect is one module and its tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from sim.states import JobState, StepState


class Action(StrEnum):
    """What a client may ask of a job besides its status."""

    CANCEL = "cancel"  #: fiddler calls it revoke, workflow goes through Dequeuing
    PAUSE = "pause"
    RESUME = "resume"


class ActionRefused(ValueError):
    """The dialect does not allow this action in this state (an HTTP 409 in the server)."""


class BadPage(ValueError):
    """A list request's query that names no page (an HTTP 400 in the server)."""


class Kind(StrEnum):
    """What a route does; the server has one handler per kind."""

    SUBMIT = "submit"  #: POST: make a job as the body asks; ``Dialect.submitted`` answers
    LIST = "list"  #: GET: a page of the tenant's jobs (``limit``, ``offset``)
    STATUS = "status"  #: GET: a job's status document (``Dialect.render``); polled
    ACTION = "action"  #: POST: ``Route.action`` on a job; answers its status document
    RESOURCE = "resource"  #: GET: the job as a resource (``Dialect.resource``), not polled
    INFO = "info"  #: GET: a fixed document about the server (``Route.info``)


@dataclass(frozen=True)
class Route:
    """One endpoint. ``path`` is a template: literal segments, ``{id}`` (the job's id as
    the dialect shows it) and ``{project}`` (the tenant's name); the last segment may
    carry a literal suffix after the placeholder, as google's ``{id}:cancel``."""

    method: str
    path: str
    kind: Kind
    summary: str
    action: Action | None = None  #: for ``Kind.ACTION``
    info: Callable[[], dict] | None = None  #: for ``Kind.INFO``: the document
    info_schema: Mapping[str, Any] | None = None  #: for ``Kind.INFO``: its JSON Schema

    @property
    def op(self) -> str:
        """A name for the operation, unique within the dialect (OpenAPI operationId)."""
        return f"{self.kind}_{self.action}" if self.action else str(self.kind)


class StepLike(Protocol):
    id: str
    type: str
    state: StepState
    started: float | None
    finished: float | None


class JobLike(Protocol):
    """What rendering needs of a job (``mock_server.jobs.JobRecord`` is one)."""

    id: int
    tenant: str
    state: JobState
    created: float
    started: float | None
    finished: float | None
    steps: Sequence[StepLike]

    @property
    def completed_steps(self) -> int: ...

    def error(self) -> str | None: ...


@dataclass(frozen=True)
class Seen:
    """Where a job is shown from: what a rendering needs besides the job."""

    iso: Callable[[float | None], str | None]  #: simulated seconds -> ISO 8601 UTC
    shown_id: str  #: the job's id as this dialect shows it (``Dialect.show_id``)
    template: str  #: the job's template's name
    base_url: str = "http://127.0.0.1"  #: for absolute links (azure's Operation-Location)


class Reading(NamedTuple):
    """What a client reads off a status document."""

    state: JobState  #: the first canonical state the dialect's word stands for
    progress: float | None  #: in [0, 1]; None where the dialect shows none
    finished: str | None  #: the end time shown (ISO 8601), None where not (yet) shown


class Answer(NamedTuple):
    """An HTTP answer a dialect composes: status, headers, JSON document."""

    status: int
    headers: dict[str, str]
    doc: Any


@dataclass(frozen=True)
class Dialect:
    """How one status API renders the canonical states, and what it lets clients do."""

    name: str
    #: canonical job state -> the API's word; None where the API has no such state
    jobs: Mapping[JobState, str | None] = field(repr=False)
    #: canonical step state -> the API's word; None where the API shows no steps
    steps: Mapping[StepState, str | None] = field(repr=False)
    #: action -> the job states in which the API accepts it
    actions: Mapping[Action, frozenset[JobState]] = field(repr=False)
    #: a short reason per action, given when it is refused
    rules: Mapping[Action, str] = field(default_factory=dict, repr=False)
    #: action -> the job states, as shown, in which a request the rules refuse is still
    #: answered as done, nothing more asked of the model (``acknowledges``): google's
    #: CancelOperation is best-effort and idempotent on any operation not done
    acknowledged: Mapping[Action, frozenset[JobState]] = field(default_factory=dict, repr=False)
    #: whether a cancel passes through the visible ``cancelling`` state
    shows_cancelling: bool = False
    #: the error text a job carries when its state alone does not say why it ended
    errors: Mapping[JobState, str] = field(default_factory=dict, repr=False)
    #: the endpoints, in the order the OpenAPI document lists them
    routes: tuple[Route, ...] = field(default=(), repr=False)
    #: requests without a token are served (as the anonymous tenant) where the server
    #: allows it (``[serve] anonymous_generic``)
    anonymous: bool = False
    #: the key of a page of jobs (``Kind.LIST``)
    list_key: str = "jobs"
    #: one line for ``pollsim serve``'s banner and the docs
    summary: str = ""

    # --- words -------------------------------------------------------------------------

    def job_status(self, state: JobState) -> str:
        word = self.jobs[state]
        if word is None:
            raise ValueError(f"dialect {self.name} has no word for job state {state}")
        return word

    def job_word(self, state: JobState) -> str:
        """The word shown for ``state``; a state this dialect has no word for (a job
        paused through another dialect) shows as its word for running, the nearest."""
        word = self.jobs[state]
        return word if word is not None else self.job_status(JobState.RUNNING)

    def step_status(self, state: StepState) -> str:
        word = self.steps[state]
        if word is None:
            raise ValueError(f"dialect {self.name} has no word for step state {state}")
        return word

    def job_error(self, state: JobState) -> str | None:
        return self.errors.get(state)

    def allows(self, action: Action, state: JobState) -> bool:
        return state in self.actions.get(action, frozenset())

    def check(self, action: Action, state: JobState) -> None:
        """Raise ActionRefused, with a message a client can act on, unless allowed."""
        if self.allows(action, state):
            return
        if action not in self.actions:
            raise ActionRefused(f"{self.name} does not support {action}")
        shown = self.jobs[state] or state.value
        why = self.rules.get(action, "")
        raise ActionRefused(
            f"{self.name} cannot {action} a job that is {shown}" + (f": {why}" if why else "")
        )

    def acknowledges(self, action: Action, shown: JobState) -> bool:
        """Whether a request for ``action`` that ``check`` refused (the job is already
        being cancelled, or has ended since it was last shown) is answered as done
        rather than 409, the job being in state ``shown`` as the API shows it now. The
        server asks this after the model refused, and asks nothing more of the model."""
        return shown in self.acknowledged.get(action, frozenset())

    def canonical(self, word: str) -> JobState:
        """The first canonical job state ``word`` stands for (KeyError if none)."""
        for state in JobState:
            if self.jobs[state] == word:
                return state
        raise KeyError(word)

    # --- ids ---------------------------------------------------------------------------

    def show_id(self, job_id: int, seed: int) -> str:
        """The job's id as this dialect's paths and documents show it."""
        return str(job_id)

    def read_id(self, text: str, seed: int) -> int | None:
        """The job id a path's ``{id}`` names, or None if it names none (ASCII digits,
        at most 18, by default: ``str.isdigit`` also takes other scripts' digits)."""
        if text.isascii() and text.isdigit() and len(text) <= 18:
            return int(text)
        return None

    def id_schema(self) -> dict:
        """The JSON Schema of a path's ``{id}``, as ``read_id`` takes it (the OpenAPI
        document's parameter; its first example is the one sent by example-based tests)."""
        return {
            "type": "string",
            "pattern": "^[0-9]{1,18}$",
            "description": "a job id: ASCII digits, at most 18",
            "examples": ["1"],
        }

    def id_pointer(self) -> str | None:
        """Where the body of a submission's answer shows the new job's id, as a JSON
        pointer (the OpenAPI links from a submission to its job's routes). None, the
        default, lets the OpenAPI document find it: the member of a sample submission's
        answer that equals what ``new_job`` reads from it, if one does."""
        return None

    def path(self, kind: Kind, shown_id: str = "", project: str = "") -> str:
        """The path of this dialect's first route of ``kind``, filled in."""
        for route in self.routes:
            if route.kind is kind:
                return route.path.replace("{id}", shown_id).replace("{project}", project)
        raise KeyError(f"{self.name} has no {kind} route")

    # --- the document model: override per dialect -----------------------------------

    def render(self, job: JobLike, seen: Seen) -> dict:
        """The job's status document."""
        raise NotImplementedError

    def read(self, doc: Any) -> Reading:
        """What a status document says; KeyError, TypeError or ValueError if it is not
        one of this dialect's."""
        raise NotImplementedError

    def schema(self) -> dict:
        """The JSON Schema of a status document."""
        raise NotImplementedError

    def submitted(self, job: JobLike, seen: Seen, status_doc: dict) -> Answer:
        """The answer to a submission that made ``job`` (``status_doc`` is its status
        document): by default 201, its status document, and Location."""
        location = self.path(Kind.STATUS, seen.shown_id, job.tenant)
        return Answer(201, {"Location": location}, status_doc)

    def submitted_schema(self) -> dict:
        """The JSON Schema of a submission's answer."""
        return self.schema()

    def acted(self, job: JobLike, seen: Seen, status_doc: dict) -> Answer:
        """The answer to an action the dialect allowed: 200 and the status document."""
        return Answer(200, {}, status_doc)

    def acted_schema(self) -> dict:
        """The JSON Schema of the answer to an action (``acted``)."""
        return self.schema()

    def page_query(self, page_max: int) -> dict[str, dict]:
        """The query parameters a list request pages by, name -> JSON Schema (the OpenAPI
        document's), as ``page_at`` reads them: ``limit`` and ``offset`` by default."""
        return {
            "limit": {"type": "integer", "minimum": 1, "maximum": page_max, "default": 50},
            "offset": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
        }

    def page_at(self, query: Mapping[str, str], page_max: int) -> tuple[int, int]:
        """The page a list request asks for, (limit, offset), read from its query; BadPage
        says what was expected. By default ``limit`` (1 to ``page_max``, 50) and
        ``offset`` (0 up, 0), whole numbers."""
        limit = whole_query(query, "limit", 50, 1, page_max)
        return limit, whole_query(query, "offset", 0, 0, MAX_OFFSET)

    def page(
        self, items: list[dict], total: int, limit: int, offset: int, base_url: str = ""
    ) -> dict:
        """A page of jobs (``Kind.LIST``), each as ``listed`` shows it, with what leads a
        client to the next page (``base_url`` as ``Seen.base_url``, for an absolute link)."""
        return {self.list_key: items, "total": total, "limit": limit, "offset": offset}

    def page_schema(self) -> dict:
        from sim.dialects.schema import page

        return page(self.list_key, self.listed_schema())

    def listed_schema(self) -> dict:
        """The JSON Schema of a job in a page of jobs."""
        return self.schema()

    def listed(self, status_doc: dict, seen: Seen) -> dict:
        """A job as a page of jobs (``Kind.LIST``) shows it: its status document by default."""
        return status_doc

    def new_job(self, status: int, headers: Mapping[str, str], doc: Any) -> str | None:
        """For a client: the shown id of the job a submission's answer names, or None.
        ``headers`` are looked up by lower-case names."""
        raise NotImplementedError

    def resource(self, job: JobLike, seen: Seen) -> dict:
        """The job as a resource (``Kind.RESOURCE``), where the dialect has one."""
        raise NotImplementedError

    def resource_schema(self) -> dict:
        raise NotImplementedError

    def error(self, status: int, kind: str, message: str) -> dict:
        """An error body in this ecosystem's shape. ``kind`` is pollsim's short name of
        the error (``not_found``, ``rate_limited``, ...)."""
        return {"error": kind, "message": message}

    def error_kind(self, doc: Any) -> str:
        """pollsim's short name of the error in one of this dialect's error bodies (what
        ``error`` was given as ``kind``); KeyError, IndexError or TypeError if ``doc`` is
        no error body of this dialect's."""
        kind = doc["error"]
        if not isinstance(kind, str):
            raise TypeError("error: expected a string")
        return kind

    def error_schema(self) -> dict:
        return {
            "type": "object",
            "required": ["error", "message"],
            "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
            "additionalProperties": False,
        }


#: the furthest a page may start: ids and offsets are read in at most 18 digits
MAX_OFFSET = 10**18 - 1


def whole_query(
    query: Mapping[str, str], name: str, default: int, low: int, high: int | None
) -> int:
    """A whole number from a query string within [low, high] (no upper bound: None), or
    BadPage saying what was expected."""
    raw = query.get(name)
    if raw is None:
        return default
    # ASCII digits only: int() also reads other scripts' digits, " 5", "5_0" and "+5"
    # (up to 4,000 digits, under int()'s own limit: a bound, not the length, refuses)
    value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 4000 else None
    if value is None or value < low or (high is not None and value > high):
        upper = "" if high is None else f" and <= {high}"
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        raise BadPage(f"{name}={shown!r}: expected a whole number >= {low}{upper}")
    return value
