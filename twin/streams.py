"""Random streams named by purpose and entity, for common random numbers across layouts.

Every stream is derived from the root seed, the replication number, a purpose (such as
"process" or "arrivals") and an entity name (such as a station's name), never from the order
in which entities happen to be built. Two layouts that differ in one station therefore share
the samples of every other station: the common random numbers that make paired comparisons
sharp.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import numpy as np

BLOCK = 1024  # draws generated at a time; fixed, so every engine sees the same sequence


def name_key(name: str) -> int:
    """A stable 32-bit integer for a name (unlike hash(), the same in every process)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "little")


def stream(seed: int, replication: int, purpose: str, entity: str = "") -> np.random.Generator:
    """The generator for one (replication, purpose, entity), independent of all others."""
    seq = np.random.SeedSequence(seed, spawn_key=(replication, name_key(purpose), name_key(entity)))
    return np.random.Generator(np.random.PCG64(seq))


def draws(sample, rng: np.random.Generator, block: int = BLOCK) -> Iterator[float]:
    """An endless iterator of floats from `sample(rng, n)`, generated `block` at a time.

    Drawing in fixed blocks keeps the per-draw cost at a few tens of nanoseconds and makes
    the k-th value of a stream the same whichever engine asks for it.
    """
    while True:
        yield from sample(rng, block).tolist()


def uniforms(rng: np.random.Generator, block: int = BLOCK) -> Iterator[float]:
    """An endless iterator of U(0, 1) floats (for scrap, rework and routing decisions)."""
    while True:
        yield from rng.random(block).tolist()
