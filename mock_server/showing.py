"""What the server shows of a job, and where from: the status document a dialect renders
(``Dialect.render``), serialized once per version the job shows and, where the document
carries absolute links, once per ``Host`` too; its ETag, and whether an If-None-Match
holds it; the ``Seen`` a dialect renders from, its links built on the ``Host`` the
client reached; and an answer that shows the document (a submission's, an action's).

Apart from the core's routing (``mock_server.core``) because everything shown of a job,
on every path, is made here alike: a status request, a list's items, a long-poll's
"changed yet?" and an injected fault's cut-short body all read the same cached document.
"""

from __future__ import annotations

import json
import zlib
from typing import TYPE_CHECKING

from mock_server.jobs import JobRecord
from mock_server.responses import Request, Response, base_url, ok
from sim.dialects import DIALECTS, Dialect, Seen

if TYPE_CHECKING:
    from mock_server.clock import ScaledClock
    from mock_server.core import Config


class Showing:
    """Shows jobs to the request being handled (``req``, set by ``Core.handle``, which
    runs to its end before the next): read only where a link needs its ``Host``."""

    def __init__(self, clock: ScaledClock, seed: int, config: Config) -> None:
        self.clock = clock
        self.seed = seed  #: what dialects derive the ids they show from
        self.config = config  #: read as it is now: ``app.serve`` sets its base_url late
        self.req: Request | None = None

    def seen(self, rec: JobRecord, dialect: Dialect) -> Seen:
        """Where ``rec`` is shown from, for ``dialect``'s renderings (its links built on
        the request's ``Host``: ``base_url``)."""
        return Seen(
            self.clock.iso,
            dialect.show_id(rec.id, self.seed),
            rec.template.name,
            self.base_url(),
        )

    def base_url(self) -> str:
        """The base of absolute links for the request being handled: its ``Host``
        where that is well formed (a proxy's or a port forward's address is what the
        client can reach), else the server's own (``Config.base_url``)."""
        req = self.req
        host = req.headers.get("host") if req is not None else None
        return base_url(host, self.config.base_url)

    def document(self, rec: JobRecord, dialect: Dialect) -> tuple[bytes, str]:
        """The serialized status and its ETag, made once per visible version. ETags are
        distinct across dialects (the dialect's place in ``DIALECTS`` leads them)."""
        name = dialect.name
        cached = rec.cache.get(name)
        # a document with absolute links is one per Host as well as per version
        linked = name in _LINKED
        stamp = (rec.version, self.base_url()) if linked else rec.version
        if cached is not None and cached[0] == stamp:
            return cached[1], cached[2]
        doc = dialect.render(rec, self.seen(rec, dialect))
        body = json.dumps(doc, separators=(",", ":")).encode()
        etag = f'"{_PLACE[name]}.{rec.id}.{rec.version}"'
        if linked:  # the same version seen through another Host is another document
            etag = f'"{_PLACE[name]}.{rec.id}.{rec.version}.{zlib.crc32(stamp[1].encode()):x}"'
        if cached is not None and cached[1] == body:
            etag = cached[2]  # nothing this dialect shows has changed
        rec.cache[name] = (stamp, body, etag)
        return body, etag

    def answer_with(self, rec: JobRecord, dialect: Dialect, compose) -> Response:
        """The answer ``compose(rec, seen, status_doc)`` makes (``Dialect.submitted`` or
        ``acted``): the status document as cached, with its ETag, where that is what it
        answers; else the document it composed."""
        body, etag = self.document(rec, dialect)
        status_doc = json.loads(body)
        answer = compose(rec, self.seen(rec, dialect), status_doc)
        if answer.doc is status_doc:
            headers = {"Content-Type": "application/json", "ETag": etag, **answer.headers}
            return Response(answer.status, body, headers)
        return ok(answer.status, answer.doc, **answer.headers)


def matches(header: str, etag: str) -> bool:
    """If-None-Match holds for the current document: ``*`` (any, RFC 9110) or its ETag,
    weak or strong, among those listed."""
    tags = {t.strip() for t in header.split(",")}
    return "*" in tags or etag in tags or f"W/{etag}" in tags


def names(header: str, etag: str) -> bool:
    """If-None-Match names the current document's ETag itself (not just ``*``): the
    client has been shown this version."""
    return etag in {t.strip().removeprefix("W/") for t in header.split(",")}


#: each dialect's place in DIALECTS, which leads its ETags
_PLACE = {name: i for i, name in enumerate(DIALECTS)}


def _links(schema: object) -> bool:
    """Whether a JSON Schema admits an absolute link (a string of format ``uri``)."""
    if isinstance(schema, dict):
        return schema.get("format") == "uri" or any(map(_links, schema.values()))
    if isinstance(schema, list):
        return any(map(_links, schema))
    return False


#: the dialects whose status documents may carry absolute links, as their schemas say:
#: their documents depend on the request's Host, and are cached per Host too
_LINKED = frozenset(d.name for d in DIALECTS.values() if _links(d.schema()))
