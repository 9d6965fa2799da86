"""What a 404 for a job or a project says beyond "not found": the near miss a client
most likely made. A job id that is another tenant's; another dialect's way of writing
the id (with the path that shows the job here); a job of the run before a reset; a
project (a tenant's name in the path) not the token's own. Worked out only when such a
404 is answered, from a lookup or two.

What a hint tells, and to whom: a tenant's token, or none, learns that an id is in use
and that it is not theirs, never whose (ids count up from 1 across tenants, so a
submission tells as much); the admin, who sees every job, is told whose it is, and the
tenants there are. The client's own text is quoted back through ``quoted``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_server.access import ADMIN, ANONYMOUS
from mock_server.near_miss import listed
from mock_server.responses import quoted
from sim.dialects import DIALECTS, Dialect, Route
from sim.mock_spec import RESERVED_TENANTS

if TYPE_CHECKING:
    from mock_server.core import Core


def no_job(core: Core, dialect: Dialect, route: Route, text: str, who: str, acting: str) -> str:
    """The message of a 404 for a job route whose ``{id}`` (``text``) names no job
    ``acting`` sees (``who``: the token's tenant, ``ADMIN`` or ``ANONYMOUS``; ``acting``:
    the tenant it acts for, which differs for the admin in a project): whether the id
    is another tenant's, or another dialect's way of writing a job's id."""
    records, seed = core.model.records, core.seed
    job_id = dialect.read_id(text, seed)
    if job_id is None:  # another dialect's way of writing an id? (the ways are disjoint)
        ids = (d.read_id(text, seed) for d in DIALECTS.values())
        job_id = next((n for n in ids if n is not None), None)
    rec = records.get(job_id) if job_id is not None else None
    if rec is None:
        first = getattr(core.model, "first_id", 1)  # ids go on across a reset
        if job_id is not None and 1 <= job_id < first:
            return f"no job {quoted(text)}: it was made before the server's last reset"
        return f"no job {quoted(text)}"
    if who != ADMIN and rec.tenant != acting:
        if who == ANONYMOUS:
            return (
                f"job {quoted(text)} exists, but under a tenant: a request without a token "
                "sees only the jobs submitted without one; send the token of the job's tenant"
            )
        return (
            f"job {quoted(text)} exists, but under another tenant; your token is tenant "
            f"{who}'s (a tenant sees only its own jobs)"
        )
    project = rec.tenant
    shown = dialect.show_id(rec.id, seed)
    path = route.path.replace("{id}", shown).replace("{project}", project)
    if "{project}" in route.path and rec.tenant != acting:  # the admin, in another project
        return f"job {quoted(text)} is tenant {rec.tenant}'s: {route.method} {path}"
    names = [d.name for d in DIALECTS.values() if d.read_id(text, seed) == rec.id]
    return (
        f"no job {quoted(text)} in {dialect.name}: that is job {rec.id}'s id in "
        f"{listed(names) if names else 'another dialect'}, which {dialect.name} shows as "
        f"{shown}: {route.method} {path}"
    )


def no_project(core: Core, project: str, who: str) -> str:
    """The message of a 404 for a project (a tenant's name in the path) the requester may
    not act in: a tenant is told its own; the admin, the tenants there are."""
    head = f"no such project: {quoted(project)}"
    if who == ANONYMOUS:
        return f"{head}; a request without a token has no project: send a tenant's token"
    if who != ADMIN:
        return f"{head}; your token is tenant {who}'s: its project is {who}"
    known = sorted(
        t
        for t in {*core.config.tokens.values(), *core.model.by_tenant}
        if t.lower() not in RESERVED_TENANTS
    )
    shown = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
    return f"{head}; no tenant of that name has a token or a job (tenants: {shown or 'none'})"
