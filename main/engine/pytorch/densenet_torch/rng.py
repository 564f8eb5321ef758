"""The workbench's seeded random streams, bit for bit as main/engine/data/rng.ts draws them.

Both engines must visit the samples of an epoch in the same order and augment them the same
way, and a run resumed by either engine must continue the stream it was in. So this is a port,
not a substitute: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator from PractRand),
seeded through splitmix32, with the same rejection sampling and the same seed derivation. The
state is four unsigned 32-bit integers, stored in checkpoints as a JSON list.

Porting note: JavaScript's `>>> 0` and `Math.imul` are written here as masks to 32 bits; the
results are identical for every input (test/unit/pytorch checks fixed vectors from the TS side).
"""
from typing import List, MutableSequence, Sequence

MASK = 0xFFFFFFFF
TWO32 = 4294967296


def _mix(state: int) -> "tuple[int, int]":
    """One splitmix32 step: returns (new state, output)."""
    s = (state + 0x9E3779B9) & MASK
    z = s
    z = ((z ^ (z >> 16)) * 0x85EBCA6B) & MASK
    z = ((z ^ (z >> 13)) * 0xC2B2AE35) & MASK
    return s, (z ^ (z >> 16)) & MASK


def _check_seed(seed: int) -> None:
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0 or seed > MASK:
        raise ValueError(f"A seed must be an integer in [0, 4294967295]; got {seed!r}.")


class Rng:
    """sfc32 with the TS generator's interface: next(), next_uint32(), int(n), state."""

    __slots__ = ("a", "b", "c", "d")

    def __init__(self, seed: int):
        _check_seed(seed)
        s = seed
        words = []
        for _ in range(4):
            s, out = _mix(s)
            words.append(out)
        self.a, self.b, self.c, self.d = words
        # Discard the first outputs, as sfc32's author recommends, so that the state is well mixed.
        for _ in range(12):
            self.next_uint32()

    def next_uint32(self) -> int:
        a, b, c, d = self.a, self.b, self.c, self.d
        t = (a + b + d) & MASK
        self.d = (d + 1) & MASK
        self.a = b ^ (b >> 9)
        self.b = (c + (c << 3)) & MASK
        c = ((c << 21) | (c >> 11)) & MASK
        self.c = (c + t) & MASK
        return t

    def next(self) -> float:
        """Uniform float in [0, 1) with 32 bits of randomness."""
        return self.next_uint32() / TWO32

    def int(self, n: int) -> int:
        """Uniform integer in [0, n), by rejection sampling (no modulo bias)."""
        if not isinstance(n, int) or n <= 0 or n > TWO32:
            raise ValueError(f"rng.int(n) needs an integer n in [1, 2^32]; got {n!r}.")
        limit = TWO32 - (TWO32 % n)
        x = self.next_uint32()
        while x >= limit:
            x = self.next_uint32()
        return x % n

    def get_state(self) -> List[int]:
        return [self.a, self.b, self.c, self.d]

    def set_state(self, state: Sequence[int]) -> None:
        if (not isinstance(state, (list, tuple)) or len(state) != 4
                or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MASK for v in state)):
            raise ValueError(f"An RNG state must be four unsigned 32-bit integers; got {state!r}.")
        self.a, self.b, self.c, self.d = (int(v) for v in state)


def derive_seed(seed: int, *parts: int) -> int:
    """A seed derived from `seed` and integers (an epoch, a batch index...), as deriveSeed in TS."""
    _, h = _mix(seed & MASK)
    for p in parts:
        _, h = _mix((h ^ ((p & MASK) * 0x9E3779B1)) & MASK)
    return h


def shuffle_in_place(items: MutableSequence, rng: Rng) -> MutableSequence:
    """Fisher-Yates, drawing j = rng.int(i + 1) from the end, as shuffleInPlace in TS."""
    for i in range(len(items) - 1, 0, -1):
        j = rng.int(i + 1)
        items[i], items[j] = items[j], items[i]
    return items


class SeedPurpose:
    """Seeds of the separate random streams of a run (main/engine/train/seeded.ts)."""
    INIT = 1
    DROPOUT = 2
    DATA = 3
    VAL_SPLIT = 4


def stream_seed(run_seed: int, purpose: int, *parts: int) -> int:
    return derive_seed(run_seed, purpose, *parts)
