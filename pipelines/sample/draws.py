"""Small pieces every part of the sample generator shares: day numbers and vectorized draws."""

from __future__ import annotations

from datetime import date

import numpy as np

_EPOCH = date(1970, 1, 1)


def day_number(d: date) -> int:
    return (d - _EPOCH).days


NULL_DAY = np.int64(-(2**31) + 1)  # a date field left empty
NEVER = np.int64(2**31 - 1)  # COMP_DATE of a proceeding still pending at the release date


def choice(rng: np.random.Generator, n: int, probs) -> np.ndarray:
    cum = np.cumsum(np.asarray(probs, dtype=float))
    return np.minimum(np.searchsorted(cum / cum[-1], rng.random(n), side="right"), len(cum) - 1)


def choice_rows(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One draw per row of a (rows, k) weight matrix."""
    cum = np.cumsum(weights, axis=1)
    r = rng.random(len(weights)) * cum[:, -1]
    return np.minimum((cum <= r[:, None]).sum(axis=1), weights.shape[1] - 1)


def letters(codes) -> np.ndarray:
    return np.array([ord(c) for c in codes], dtype=np.uint8)
