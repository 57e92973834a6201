"""Exports of generated data: each kind loads with `datasets.load_dataset("json", ...)` and says what it should."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from personagym.data.exports import (
    EXPORT_KINDS,
    LOSSY_NOISE,
    MASK,
    _session_messages,
    _sessions,
    _World,
    export,
    export_features,
)
from personagym.data.generate import generate, read_generated
from personagym.policies import make_policy
from personagym.rollout import make_env, reset_policy, run_episode

datasets = pytest.importorskip("datasets")

RUN = {"personas": 4, "episodes_per_persona": 3, "seed": 3, "fmt": "jsonl", "shard_size": 2}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same episodes with the generic and the oracle policy, and a multi-session run."""
    root = tmp_path_factory.mktemp("runs")
    generate(root / "generic", **RUN)
    generate(root / "oracle", policy="oracle", **RUN)
    # a multi-session run holding an episode cut at its turn limit (about one in five is): the first such seed
    for seed in range(RUN["seed"], RUN["seed"] + 50):
        longterm = root / f"longterm-{seed}"
        generate(longterm, env_id="PersonaGym/LongTerm-v0",
                 **{**RUN, "personas": 2, "episodes_per_persona": 2, "seed": seed})
        if any(t.truncated for t in read_generated(longterm)):
            break
    return {"generic": root / "generic", "oracle": root / "oracle", "longterm": longterm}


def _load(path: Path, tmp_path: Path, kind: str | None = None):
    features = export_features(kind) if kind else None
    return datasets.load_dataset("json", data_files=str(path), split="train", features=features,
                                 cache_dir=str(tmp_path / f"cache-{kind}"))


@pytest.mark.parametrize("kind", EXPORT_KINDS)
def test_every_export_loads_with_datasets(runs: dict[str, Path], tmp_path: Path, kind: str) -> None:
    source = [runs["generic"], runs["oracle"]] if kind == "pairs" else runs["generic"]
    path = tmp_path / f"{kind}.jsonl"
    rows = export(kind, source, path)  # type: ignore[arg-type]
    assert rows > 0
    inferred, typed = _load(path, tmp_path), _load(path, tmp_path, kind)
    assert len(inferred) == len(typed) == rows
    assert set(typed.column_names) == set(export_features(kind))  # type: ignore[arg-type]


def test_chat_rows_are_the_conversations(runs: dict[str, Path], tmp_path: Path) -> None:
    export("chat", runs["generic"], tmp_path / "chat.jsonl")
    rows = _load(tmp_path / "chat.jsonl", tmp_path, "chat")
    trajectories = list(read_generated(runs["generic"]))
    assert rows["trajectory_id"] == [t.trajectory_id for t in trajectories]
    for row, t in zip(rows, trajectories, strict=True):
        roles = [m["role"] for m in row["messages"]]
        assert roles == ["user", "assistant"] * len(t.turns)
        assert [m["content"] for m in row["messages"][::2]] == [turn.user.text for turn in t.turns]


def test_pki_sft_lists_every_pki_with_ground_truth_intensity(runs: dict[str, Path], tmp_path: Path) -> None:
    export("pki_sft", runs["longterm"], tmp_path / "pki.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "pki.jsonl").read_text().splitlines()]
    for row, t in zip(rows, read_generated(runs["longterm"]), strict=True):
        pkis = [pki for u in t.user_turns() for pki in u.pkis]
        assert len(row["pkis"]) == len(pkis)
        for out, pki in zip(row["pkis"], pkis, strict=True):
            if pki.intensity is not None:
                assert out["intensity"] == pki.intensity  # as the utterance states it
            elif pki.kind == "interest" and pki.certainty == "clear":
                assert out["intensity"] is not None  # unsaid: the ground truth at that moment
        text = row["completion"][0]["content"]
        assert re.fullmatch(r"<REASONING>\n.+\n</REASONING>\n<PKIS>\n\[.*\]\n</PKIS>", text, re.DOTALL)
        assert row["reasoning"].count("User message") == len(row["pkis"])
        answer = json.loads(text.split("<PKIS>\n")[1].split("\n</PKIS>")[0])
        said = {(p["turn"], p["type"], p["key"], p["value"], p["polarity"], p["intensity"]) for p in row["pkis"]}
        assert len(answer) == len(said)  # a slip and its correction, the same truth: listed once


class _Witness:
    """The generic policy, noting the user's hidden interest intensities as each message reaches it."""

    def __init__(self, env) -> None:
        self.env, self.inner, self.seen = env, make_policy("generic", env=env, seed=0), []

    def reset(self, seed: int | None = None) -> None:
        reset_policy(self.inner, seed)
        self.seen = []

    def act(self, observation) -> str:
        self.seen.append({n: i.intensity for n, i in self.env.unwrapped.user.state.interests.items()})
        return self.inner.act(observation)


def test_the_intensities_replayed_from_a_record_are_those_the_user_had() -> None:
    """Satiation, recovery, drift and life events between the messages, as the live simulator had them."""
    env = make_env("PersonaGym/LongTerm-v0")
    world, witness, changed = _World(env.unwrapped.schema, env.unwrapped.knowledge()), _Witness(env), 0
    for seed in range(30):
        t = run_episode(env, witness, seed, "generic")
        replayed, users = world.intensities(t), t.user_turns()
        answered = [i for i, user in enumerate(users) if any(user is turn.user for turn in t.turns)]
        assert len(replayed) == len(users) and len(answered) == len(witness.seen)
        assert [replayed[i] for i in answered] == witness.seen, seed
        changed += replayed[-1] != replayed[0]
    assert changed > 20


def test_pki_sft_masks_the_oracles_answers_and_chat_warns(runs: dict[str, Path], tmp_path: Path) -> None:
    export("pki_sft", runs["oracle"], tmp_path / "pki.jsonl")
    for line in (tmp_path / "pki.jsonl").read_text().splitlines():
        row = json.loads(line)
        assert {m["content"] for m in row["conversation"] if m["role"] == "assistant"} <= {MASK}
    with pytest.warns(UserWarning, match="'oracle' policy, which reads the hidden profile"):
        export("chat", runs["oracle"], tmp_path / "chat.jsonl")


def test_ppopt_masks_replies_and_keeps_at_most_four_past_sessions(runs: dict[str, Path], tmp_path: Path) -> None:
    export("ppopt", runs["longterm"], tmp_path / "ppopt.jsonl")  # 2 personas x 2 episodes x 4 sessions
    rows = [json.loads(line) for line in (tmp_path / "ppopt.jsonl").read_text().splitlines()]
    assert len(rows) == 2 * 2 * 4
    # each episode is its own timeline (drift, life events): its sessions' history is its own
    assert [len(r["history"]) for r in rows] == [0, 1, 2, 3] * 4
    export("ppopt", runs["generic"], tmp_path / "single.jsonl")  # single-session episodes: the persona's
    assert [len(json.loads(r)["history"]) for r in (tmp_path / "single.jsonl").read_text().splitlines()][:3] == [
        0, 1, 2]
    for row in rows:
        assistant = [m["content"] for h in row["history"] for m in h["messages"] if m["role"] == "assistant"]
        assert set(assistant) <= {MASK}
        assert MASK in row["prompt"][0]["content"] or not row["history"]
        assert row["query"] in row["prompt"][0]["content"]
        assert re.fullmatch(r"<REASONING>\n.+\n</REASONING>\n<PROMPT>\n.+\n</PROMPT>",
                            row["completion"][0]["content"], re.DOTALL)
    trajectories = {t.trajectory_id: t for t in read_generated(runs["longterm"])}
    truncated = next(t for t in trajectories.values() if t.truncated)  # its last message was never answered
    last_session = _sessions(truncated)[-1][1]
    assert last_session[-1] is truncated.final_user
    messages = _session_messages(last_session, truncated.final_user)
    assert messages[-1] == {"role": "user", "content": truncated.final_user.text}  # no invented reply after it
    assert [m["role"] for m in messages[:2]] == ["user", "assistant"]
    for row in rows:  # the rewritten query puts back what noise changed in the wording, never what it took out
        opening = next(u for u in trajectories[row["trajectory_id"]].user_turns() if u.session == row["session"])
        took_out = bool(LOSSY_NOISE.intersection(opening.noise.strategies))
        assert row["query"] == opening.text
        assert row["rewritten_prompt"].startswith(opening.text if took_out else opening.clean_text)


def test_pairs_prefer_the_higher_reward_for_the_same_first_message(runs: dict[str, Path], tmp_path: Path) -> None:
    export("pairs", [runs["generic"], runs["oracle"]], tmp_path / "pairs.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "pairs.jsonl").read_text().splitlines()]
    oracle = {t.trajectory_id: t for t in read_generated(runs["oracle"])}
    for row in rows:
        assert row["chosen_reward"] > row["rejected_reward"]
        turn = oracle[row["trajectory_id"]].turns[0]
        reward = row["chosen_reward"] if row["chosen_policy"] == "oracle" else row["rejected_reward"]
        # ranked by the reply as exported: without the profile block's score
        assert reward == pytest.approx(turn.reward - 0.5 * turn.reward_components["profile"])
        assert row["prompt"][0]["content"] == turn.user.text
        answered = row["chosen"] if row["chosen_policy"] == "oracle" else row["rejected"]
        assert turn.profile is not None  # the oracle stated the hidden profile ...
        assert answered[0]["content"] == turn.assistant  # ... and the pair keeps only the answer
        assert "<profile>" not in answered[0]["content"]


def test_pairs_refuse_runs_of_other_episodes(runs: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"not generated from the same episodes \(env_id='PersonaGym/LongTerm-v0' "
                                         r"vs 'PersonaGym/Chat-v0', personas=2 vs 4"):
        export("pairs", [runs["generic"], runs["longterm"]], tmp_path / "pairs.jsonl")
    with pytest.raises(ValueError, match=r"pairs need two or more generated directories"):
        export("pairs", runs["generic"], tmp_path / "pairs.jsonl")
    with pytest.raises(ValueError, match=r"unknown export kind 'sft'; expected one of chat, pki_sft, ppopt, pairs"):
        export("sft", runs["generic"], tmp_path / "x.jsonl")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"no pairs: every episode's first replies scored the same .*nothing written"):
        export("pairs", [runs["generic"], runs["generic"]], tmp_path / "pairs.jsonl")
    assert not (tmp_path / "pairs.jsonl").exists()
