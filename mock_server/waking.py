"""What a reset (``mock_server.admin_reset``) sets off for the requests the server
holds (``mock_server.holding``): each wait of a run also waits on the run's future."""

from __future__ import annotations

import asyncio


class Waker:
    """What a reset sets off: one future a run's waits also wait on, done at the reset
    and replaced by a new one for the next run's."""

    def __init__(self) -> None:
        self._future: asyncio.Future | None = None

    def future(self) -> asyncio.Future:
        """The current run's future (made on the running loop when first asked)."""
        future = self._future
        if future is None:
            future = self._future = asyncio.get_running_loop().create_future()
        return future

    def wake(self) -> None:
        """Wake every wait of the run so far; later waits wait on a new future."""
        future, self._future = self._future, None
        if future is not None and not future.done():
            future.set_result(None)
