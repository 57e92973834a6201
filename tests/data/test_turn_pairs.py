"""Preference pairs at every turn: policies answer the same state, scored on a fork of the env."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personagym.data.exports import TIE, export_features
from personagym.data.turn_pairs import turn_pairs, write_turn_pairs
from personagym.policies import Policy
from personagym.rollout import PolicyError, rollout

datasets = pytest.importorskip("datasets")


@pytest.mark.parametrize("env_id", ["PersonaGym/Chat-v0", "PersonaGym/LongTerm-v0"])
def test_each_turn_of_the_leads_conversation_pairs_answers_to_the_same_state(env_id: str) -> None:
    """`export --to pairs` gave one pair per episode (its first answers); here each turn of the lead's conversation
    gives one where the answers' rewards differ.  The prompt is the lead's conversation so far, word for word, and
    an answer's reward is what it earns when sent: the lead's chosen or rejected reward is its trajectory's."""
    policies = ["tracker", "generic", "random"]
    rows = list(turn_pairs(env_id, policies, episodes=12, seed=5))
    led = {t.trajectory_id: t for t in rollout(env_id, "tracker", episodes=12, seed=5)}
    assert len(rows) > 2 * len(led) and {r["trajectory_id"] for r in rows} <= led.keys()
    checked = 0
    for row in rows:
        assert row["chosen_reward"] >= row["rejected_reward"] + TIE
        assert row["chosen_policy"] != row["rejected_policy"] and {row["chosen_policy"], row["rejected_policy"]} \
            <= set(policies)
        t = led[row["trajectory_id"]]
        step = (len(row["prompt"]) - 1) // 2
        said = [m["content"] for m in row["prompt"]]
        users = said[0::2] if env_id == "PersonaGym/Chat-v0" else [_unmarked(m) for m in said[0::2]]
        assert users == [turn.user.text for turn in t.turns[: step + 1]]  # what the assistant saw
        assert said[1::2] == [turn.assistant for turn in t.turns[:step]]  # the lead's answers, no profile block
        turn = t.turns[step]
        for side in ("chosen", "rejected"):
            if row[f"{side}_policy"] == "tracker":
                assert row[side][0]["content"] == turn.assistant
                assert row[f"{side}_reward"] == pytest.approx(turn.reward - 0.5 * turn.reward_components["profile"],
                                                              abs=1e-6)
                checked += 1
    assert checked > len(rows) / 3
    assert rows == list(turn_pairs(env_id, policies, episodes=12, seed=5))  # same seed, same pairs


def _unmarked(message: str) -> str:
    """A prompt's user message without what opens a session in a multi-session row (a goodbye and the marker)."""
    return message.rpartition(" ---\n")[2]


def test_a_multi_session_row_shows_where_each_session_ended_and_began(tmp_path: Path) -> None:
    """LongTerm rows ran the sessions together (230 of 288 rows of 20 episodes spanned sessions, none marked, and
    the 293 goodbyes that closed a session were dropped): a trainer read one conversation where the user came back
    days later.  Each session's first message now opens with the goodbye before it and ``--- session N ---``, as
    the recall transcript marks a session, and the prompt still alternates user and assistant."""
    out = tmp_path / "long.jsonl"
    count = write_turn_pairs("PersonaGym/LongTerm-v0", ["tracker", "generic"], 3, out, seed=0)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    led = {t.trajectory_id: t for t in rollout("PersonaGym/LongTerm-v0", "tracker", episodes=3, seed=0)}
    spanning = goodbyes = 0
    for row in rows:
        roles = [m["role"] for m in row["prompt"]]
        assert roles == ["user", "assistant"] * (len(roles) // 2) + ["user"]
        turns = led[row["trajectory_id"]].turns[: len(roles) // 2 + 1]
        users = [m["content"] for m in row["prompt"][0::2]]
        marked = [(i, line) for i, m in enumerate(users) for line in m.splitlines() if line.startswith("--- session")]
        opens = [i for i, turn in enumerate(turns) if i == 0 or turn.session != turns[i - 1].session]
        assert marked == [(i, f"--- session {turns[i].session + 1} ---") for i in opens]
        for i in opens[1:]:
            closing = turns[i - 1].closing  # None where the session was cut at its last turn
            head = "" if closing is None else f"{closing.text}\n"
            assert users[i] == f"{head}--- session {turns[i].session + 1} ---\n{turns[i].user.text}"
            goodbyes += closing is not None
        spanning += len(opens) > 1
    assert spanning > count / 2 and goodbyes > 0
    loaded = datasets.load_dataset("json", data_files=str(out), features=export_features("pairs"), split="train")
    assert loaded.num_rows == count and loaded[-1]["prompt"] == rows[-1]["prompt"]


def test_turn_pairs_load_with_the_pairs_features_and_refuse_bad_input(tmp_path: Path) -> None:
    out = tmp_path / "turns.jsonl"
    count = write_turn_pairs("PersonaGym/Chat-v0", ["generic", "tracker"], 6, out, seed=1, lead="generic")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert count == len(rows) > 6
    loaded = datasets.load_dataset("json", data_files=str(out), features=export_features("pairs"), split="train")
    assert loaded.num_rows == count and loaded[0]["prompt"] == rows[0]["prompt"]
    assert not any("--- session" in m["content"] for row in rows for m in row["prompt"])  # one session: as it was
    with pytest.raises(ValueError, match=r"turn pairs need two or more different policies, got \['tracker', "
                                         r"'tracker'\]"):
        next(turn_pairs("PersonaGym/Chat-v0", ["tracker", "tracker"], 2))
    with pytest.raises(ValueError, match=r"lead 'oracle' is none of the policies \['tracker', 'generic'\]"):
        next(turn_pairs("PersonaGym/Chat-v0", ["tracker", "generic"], 2, lead="oracle"))
    with pytest.warns(UserWarning, match="'oracle' policy reads the hidden profile"):
        next(turn_pairs("PersonaGym/Chat-v0", ["tracker", "oracle"], 2))
    same = ["generic", "tests.data.gen_policy:ControlledPolicy"]  # the latter answers as generic does
    with pytest.raises(ValueError, match=r"no pairs: generic, tests.data.gen_policy:ControlledPolicy earned the "
                                         r"same reward at every turn of 1 episodes; nothing written"):
        write_turn_pairs("PersonaGym/Chat-v0", same, 1, tmp_path / "none.jsonl")
    assert not (tmp_path / "none.jsonl").exists()


class _Echo(Policy):
    """Says the user's message back (no preference of the user's in it beyond the request's words)."""

    def act(self, observation):
        return "Happy to help with that: " + observation["message"]


class _Broken(Policy):
    def act(self, observation):
        raise ValueError("my bug")


def test_turn_pairs_take_policy_objects_and_a_policys_bug_is_its_own() -> None:
    """A policy object pairs as in `rollout`, named by its class (it was taken for a name: "argument of type
    'Echo' is not iterable"); a bare string is refused as such (it was read letter by letter: "got ['t', 'r',
    'a', ...]"); and what a policy raises is a PolicyError naming it and the seed, as in `rollout` (a ValueError
    of its own read as bad input: `personagym pairs` said "error: my bug", exit 2)."""
    rows = list(turn_pairs("PersonaGym/Chat-v0", ["generic", _Echo()], 4, seed=2, lead="_Echo"))
    assert rows and {r[f"{side}_policy"] for r in rows for side in ("chosen", "rejected")} == {"generic", "_Echo"}
    assert all(r["prompt"][1]["content"].startswith("Happy to help with that: ") for r in rows
               if len(r["prompt"]) > 1)  # the lead's answers were sent
    named = _Echo()
    named.name = "echo"  # a name of its own, as `rollout` records it
    rows = list(turn_pairs("PersonaGym/Chat-v0", ["tracker", named], 4))
    assert rows and {r[f"{side}_policy"] for r in rows for side in ("chosen", "rejected")} == {"tracker", "echo"}
    with pytest.raises(TypeError, match="policies must be a list of two or more policies, got the string 'tracker'"):
        next(turn_pairs("PersonaGym/Chat-v0", "tracker", 2))
    with pytest.raises(TypeError, match="an object with act\\(observation\\), got int"):
        next(turn_pairs("PersonaGym/Chat-v0", ["tracker", 3], 2))
    with pytest.raises(PolicyError, match=r"the policy '_Broken' raised ValueError: my bug \(episode seed 7\)"):
        next(turn_pairs("PersonaGym/Chat-v0", ["tracker", _Broken()], 2, seed=7))
