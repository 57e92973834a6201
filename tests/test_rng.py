"""The random tree: named streams and buffered draws."""

from __future__ import annotations

import numpy as np
import pytest

from personagym.rng import Draws, seed_sequence, stream


def test_streams_are_reproducible_and_independent() -> None:
    a1, a2 = stream(5, "noise").random(4), stream(5, "noise").random(4)
    assert np.array_equal(a1, a2)
    assert not np.array_equal(a1, stream(5, "persona").random(4))
    assert not np.array_equal(a1, stream(6, "noise").random(4))


def test_draws_match_the_generator() -> None:
    d = Draws(np.random.default_rng(1), block=7)
    values = [d.random() for _ in range(20)]
    gen = np.random.default_rng(1)
    expected = np.concatenate([gen.random(7) for _ in range(3)])[:20]
    assert np.allclose(values, expected)


def test_draw_helpers_stay_in_range() -> None:
    d = Draws(np.random.default_rng(2))
    assert all(0 <= d.index(3) < 3 for _ in range(1000))
    counts = np.bincount([d.weighted([1.0, 1.0, 4.0]) for _ in range(6000)], minlength=3)
    assert counts[1] == 0 and 0.72 < counts[2] / 6000 < 0.78  # weights 1, 0, 3
    assert {d.choice("ab") for _ in range(100)} == {"a", "b"}


@pytest.mark.parametrize(("seed", "error"), [(-1, ValueError), ("7", TypeError), (True, TypeError),
                                             (2**63, ValueError)])
def test_bad_seeds(seed, error) -> None:
    with pytest.raises(error, match="seed must be"):
        seed_sequence(seed)


def test_a_seed_too_large_to_record_is_refused_where_it_is_given() -> None:
    """reset(seed=2**63) ran and wrote JSON lines that Parquet and `datasets` could not hold (records keep seeds as
    int64): "OverflowError: Python int too large to convert to C long", naming nothing."""
    import gymnasium as gym

    from personagym.records import Trajectory

    env = gym.make("PersonaGym/Chat-v0")
    record = (env.reset(seed=2**63 - 1), env.unwrapped.trajectory())[1]
    assert record.seed == 2**63 - 1
    with pytest.raises(ValueError, match=r"seed must be at most 2\*\*63 - 1 .*got 9223372036854775808"):
        env.reset(seed=2**63)
    with pytest.raises(ValueError, match="seed"):
        Trajectory.model_validate({**record.model_dump(), "seed": 2**63})


def test_unknown_stream() -> None:
    with pytest.raises(ValueError, match="unknown random stream 'nosie'"):
        stream(0, "nosie")


def test_inlined_draws_read_the_same_stream_as_random() -> None:
    """`index` and `choice` read the buffer themselves; they must take the values `random()` would."""
    fast, slow = Draws(np.random.default_rng(3), first=4), Draws(np.random.default_rng(3), first=4)
    seq = "abcdefg"
    for k in range(50):  # crosses several refills of a small first block
        if k % 2:
            assert fast.index(k + 1) == int(slow.random() * (k + 1))
        else:
            assert fast.choice(seq) == seq[int(slow.random() * len(seq))]
    assert fast.random() == slow.random()
