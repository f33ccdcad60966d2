"""Where every random number comes from.

One root `SeedSequence(seed)`; each stream is a fixed child of it, addressed by its spawn key
so any worker can build the generator for block b directly. `SeedSequence(seed, spawn_key=k)`
is exactly what `SeedSequence(seed).spawn(...)` hands out at that position, so this is the
`SeedSequence.spawn` scheme, without spawning every sibling first.
"""

from __future__ import annotations

import numpy as np

# Stream identifiers: the first element of a spawn key. Never renumber (it changes the data).
USERS_STREAM = 0
REQUESTS_STREAM = 1
FAKER_STREAM = 2


def stream_rng(seed: int, *key: int) -> np.random.Generator:
    """The generator of one stream, e.g. `stream_rng(seed, REQUESTS_STREAM, block)`."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def faker_seed(seed: int, index: int) -> int:
    """A seed for the index-th Faker instance, derived from (but independent of) the numpy streams."""
    state = np.random.SeedSequence(seed, spawn_key=(FAKER_STREAM, index)).generate_state(2, np.uint32)
    return int(state[0]) << 32 | int(state[1])
