"""A user policy loaded as module:Class by the registry test."""

from __future__ import annotations

from collections.abc import Sequence

from personagym.policies import Observation


class EchoPolicy:
    """Repeats the user's message (a minimal Policy implementation)."""

    def act(self, observation: Observation) -> str:
        return "You said: " + observation["message"]

    def act_batch(self, observations: Sequence[Observation]) -> list[str]:
        return [self.act(o) for o in observations]
