"""Scalar random draws in blocks: a numpy Generator call costs about 0.35 us per scalar,
a pop from a list of pre-drawn values about 0.05 us. Same seed, same draws.

>>> import numpy as np
>>> a, b = Draws(np.random.default_rng(7)), Draws(np.random.default_rng(7))
>>> [a.random() for _ in range(3)] == [b.random() for _ in range(3)]
True
>>> 0 <= a.integers(10) < 10
True
"""

from __future__ import annotations

import numpy as np

BLOCK = 4096


class Draws:
    """The scalar draws the model makes, served from blocks drawn of ``rng``. It offers the
    methods of ``numpy.random.Generator`` that distributions use, so either can be passed."""

    __slots__ = ("_exp", "_normal", "_uniform", "rng")

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self._uniform: list[float] = []
        self._normal: list[float] = []
        self._exp: list[float] = []

    def random(self) -> float:
        u = self._uniform
        if not u:
            u.extend(self.rng.random(BLOCK).tolist())
        return u.pop()

    def standard_normal(self) -> float:
        z = self._normal
        if not z:
            z.extend(self.rng.standard_normal(BLOCK).tolist())
        return z.pop()

    def standard_exponential(self) -> float:
        e = self._exp
        if not e:
            e.extend(self.rng.standard_exponential(BLOCK).tolist())
        return e.pop()

    def integers(self, n: int) -> int:
        return min(int(self.random() * n), n - 1)
