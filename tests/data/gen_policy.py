"""A policy for the generation tests, loaded as ``tests.data.gen_policy:ControlledPolicy``.

It answers like the built-in generic policy.  Two environment variables (read
when the policy is built, so spawned workers see them too) make it slow or
failing without changing the run's config:

* ``PERSONAGYM_TEST_DELAY``: seconds to sleep before every reply;
* ``PERSONAGYM_TEST_FAIL_PERSONA_SEED``: raise on the first reply to the persona
  sampled from this seed;
* ``PERSONAGYM_TEST_EXIT_PERSONA_SEED``: end the whole process at once (as a
  kill or the out-of-memory killer would) on the first reply to that persona.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from personagym.policies import Observation, make_policy

DELAY = "PERSONAGYM_TEST_DELAY"
FAIL_PERSONA_SEED = "PERSONAGYM_TEST_FAIL_PERSONA_SEED"
EXIT_PERSONA_SEED = "PERSONAGYM_TEST_EXIT_PERSONA_SEED"


class ControlledPolicy:
    """The generic policy, optionally slowed down or made to fail on one persona."""

    def __init__(self, env: Any = None, seed: int | None = None) -> None:
        self.env = env
        self.inner = make_policy("generic", env=env, seed=seed)
        self.delay = float(os.environ.get(DELAY, "0"))
        fail = os.environ.get(FAIL_PERSONA_SEED)
        self.fail_seed = int(fail) if fail else None
        exit_ = os.environ.get(EXIT_PERSONA_SEED)
        self.exit_seed = int(exit_) if exit_ else None

    def act(self, observation: Observation) -> str:
        if self.delay:
            time.sleep(self.delay)
        if self.fail_seed is not None and self.env.unwrapped.user.persona.seed == self.fail_seed:
            raise RuntimeError(f"planned failure on the persona of seed {self.fail_seed}")
        if self.exit_seed is not None and self.env.unwrapped.user.persona.seed == self.exit_seed:
            os._exit(1)
        return self.inner.act(observation)

    def act_batch(self, observations: Sequence[Observation]) -> list[str]:
        return [self.act(o) for o in observations]
