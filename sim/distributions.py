"""Duration distributions, validated when built and sampled from a generator handed in.

>>> import numpy as np
>>> d = LogNormal(median=60, p95=300)
>>> round(d.quantile(0.5)), round(d.quantile(0.95))
(60, 300)
>>> Constant(5).sample(np.random.default_rng(0))
5.0
>>> Uniform(10, 5)
Traceback (most recent call last):
...
ValueError: uniform needs low <= high, found low=10, high=5
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

_Z95 = NormalDist().inv_cdf(0.95)
#: the widest a log-normal may spread, p95 over median: wider ones draw durations whose
#: exponent overflows a float
MAX_SPREAD = 1e6


class Distribution:
    """A non-negative random duration in seconds."""

    def sample(self, rng: np.random.Generator) -> float:
        raise NotImplementedError

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        raise NotImplementedError

    @property
    def mean(self) -> float:
        raise NotImplementedError


def _non_negative(name: str, **values: float) -> None:
    for key, v in values.items():
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"{name} needs {key} >= 0, found {key}={v}")


@dataclass(frozen=True)
class Constant(Distribution):
    """Always the same duration."""

    value: float

    def __post_init__(self) -> None:
        _non_negative("constant", value=self.value)

    def sample(self, rng: np.random.Generator) -> float:
        return float(self.value)

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, float(self.value))

    @property
    def mean(self) -> float:
        return float(self.value)


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform between low and high."""

    low: float
    high: float

    def __post_init__(self) -> None:
        _non_negative("uniform", low=self.low, high=self.high)
        if self.low > self.high:
            raise ValueError(f"uniform needs low <= high, found low={self.low}, high={self.high}")

    def sample(self, rng: np.random.Generator) -> float:
        return self.low + (self.high - self.low) * rng.random()

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2


@dataclass(frozen=True)
class Exponential(Distribution):
    """Exponential with the given mean: memoryless service times."""

    mean_value: float

    def __post_init__(self) -> None:
        _non_negative("exponential", mean=self.mean_value)

    def sample(self, rng: np.random.Generator) -> float:
        return self.mean_value * rng.standard_exponential()

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.mean_value * rng.standard_exponential(n)

    @property
    def mean(self) -> float:
        return self.mean_value


@dataclass(frozen=True)
class LogNormal(Distribution):
    """Log-normal given its median and 95th percentile, as people describe job durations."""

    median: float
    p95: float
    sigma: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _non_negative("lognormal", median=self.median, p95=self.p95)
        if not 0 < self.median <= self.p95:
            raise ValueError(
                f"lognormal needs 0 < median <= p95, found median={self.median}, p95={self.p95}"
            )
        if self.p95 > MAX_SPREAD * self.median:
            raise ValueError(
                f"lognormal needs p95 at most {MAX_SPREAD:,.0f} times the median, found "
                f"median={self.median:g}, p95={self.p95:g}"
            )
        object.__setattr__(self, "sigma", (math.log(self.p95) - math.log(self.median)) / _Z95)

    @property
    def mu(self) -> float:
        return math.log(self.median)

    def sample(self, rng: np.random.Generator) -> float:
        return self.median * math.exp(self.sigma * rng.standard_normal())

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.median * np.exp(self.sigma * rng.standard_normal(n))

    def quantile(self, q: float) -> float:
        return math.exp(self.mu + self.sigma * NormalDist().inv_cdf(q))

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2)


@dataclass(frozen=True)
class Empirical(Distribution):
    """Resampled from observed durations (say, last month's job log)."""

    samples: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.samples:
            raise ValueError("empirical needs at least one sample")
        for i, v in enumerate(self.samples):
            if not math.isfinite(v) or v < 0:
                raise ValueError(f"empirical needs samples >= 0, found samples[{i}]={v}")

    def sample(self, rng: np.random.Generator) -> float:
        return float(self.samples[int(rng.integers(len(self.samples)))])

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.asarray(self.samples, dtype=float)[rng.integers(len(self.samples), size=n)]

    @property
    def mean(self) -> float:
        return sum(self.samples) / len(self.samples)
