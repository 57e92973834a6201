"""GRPO with gradient steps on the embedded SmolLM2 (torch, on the CPU): sampling, the update, held-out scoring."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from personagym.envs.chat import PersonaChatEnv
from personagym.learn.grpo import prompt_messages
from personagym.llm.types import ChatRequest

pytestmark = pytest.mark.llm

SMALL = {"group_size": 2, "max_tokens": 8, "history_turns": 1}


@pytest.fixture(scope="module")
def policy(local_model_dir: Path):
    from personagym.learn.grpo_torch import TorchPolicy

    return TorchPolicy(local_model_dir)


def requests(n: int, temperature: float = 1.0) -> list[ChatRequest]:
    prompt = prompt_messages("Any ideas for a weekend hobby?", [])
    return [ChatRequest.model_validate({"messages": prompt, "sampling": {
        "temperature": temperature, "max_tokens": 8, "seed": 100 + i}}) for i in range(n)]


def test_same_requests_same_answers_and_the_sampled_ids_are_kept(policy) -> None:
    first = asyncio.run(policy.generate(requests(3)))
    second = asyncio.run(policy.generate(requests(3)))
    assert [c.text for c in first] == [c.text for c in second]
    prompt = prompt_messages("Any ideas for a weekend hobby?", [])
    for completion in second:
        prompt_ids, ids = policy.sampled_ids(prompt, completion.text)
        assert policy.tokenizer.decode(ids, skip_special_tokens=True) == completion.text
        assert len(ids) == completion.completion_tokens <= 8
        assert len(prompt_ids) == completion.prompt_tokens
        assert completion.finish_reason == ("stop" if ids[-1] == policy.tokenizer.eos_token_id else "length")
    with pytest.raises(KeyError, match="no answer"):
        policy.sampled_ids(prompt, "words the model never wrote")


def test_other_seeds_sample_other_answers(policy) -> None:
    texts = {c.text for c in asyncio.run(policy.generate(requests(6)))}
    assert len(texts) > 1


def test_structured_requests_and_stop_strings_are_refused(policy) -> None:
    prompt = prompt_messages("hi", [])
    bad = ChatRequest.model_validate({"messages": prompt, "sampling": {"stop": ["\n"]}})
    with pytest.raises(ValueError, match=r"requests\[0\]: TorchPolicy samples plain text"):
        asyncio.run(policy.generate([bad]))


def test_a_step_lowers_the_loss_of_its_own_batch(local_model_dir: Path) -> None:
    """One AdamW step moves the weights along the advantages: the same rows' GRPO loss is lower after it."""
    from personagym.learn.grpo_torch import GRPOTrainer, TorchPolicy

    policy = TorchPolicy(local_model_dir)
    trainer = GRPOTrainer(policy, [PersonaChatEnv()], SMALL, {"learning_rate": 1e-4})
    prompt = prompt_messages("Any ideas for a weekend hobby?", [])
    texts = [c.text for c in asyncio.run(policy.generate(requests(4)))]
    rows = [{"prompt": prompt, "completion": [{"role": "assistant", "content": t}], "advantage": a}
            for t, a in zip(texts, [1.0, -1.0, 0.5, -0.5], strict=True)]
    sequences = [policy.sampled_ids(prompt, t) for t in texts]
    weights = next(policy.lm.parameters()).detach().clone()

    def loss() -> float:
        import torch

        with torch.no_grad():
            logp = trainer._mean_logprobs(sequences).tolist()
        return -sum(row["advantage"] * lp for row, lp in zip(rows, logp, strict=True)) / len(rows)

    before = loss()
    reported, norm, updated = trainer.update(rows)
    assert updated and norm > 0
    assert reported == pytest.approx(before, abs=0.02)  # the same loss, up to bf16 rounding
    assert loss() < before - 0.01
    assert not next(policy.lm.parameters()).detach().equal(weights)


def test_a_trainer_step_samples_scores_and_updates(policy) -> None:
    from personagym.learn.grpo_torch import GRPOTrainer

    trainer = GRPOTrainer(policy, [PersonaChatEnv() for _ in range(2)], {**SMALL, "max_tokens": 24})
    step = trainer.step()
    assert len(step.batch.rows) == 4 and step.batch.iteration == 0
    assert step.updated == any(row["advantage"] != 0.0 for row in step.batch.rows)
    assert step.updated == (step.grad_norm > 0)
    assert set(step.summary()) >= {"reward_mean", "loss", "grad_norm", "flat_groups"}


def test_rows_without_signal_change_nothing(policy) -> None:
    from personagym.learn.grpo_torch import GRPOTrainer

    trainer = GRPOTrainer(policy, [PersonaChatEnv()], SMALL)
    weights = [p.detach().clone() for p in policy.lm.parameters()]
    row = {"advantage": 0.0, "prompt": [], "completion": [{"role": "assistant", "content": "x"}]}
    assert trainer.update([row, row]) == (0.0, 0.0, False)
    assert all(p.detach().equal(w) for p, w in zip(policy.lm.parameters(), weights, strict=True))


def test_held_out_rewards_are_the_envs_reward_for_the_greedy_answer(policy) -> None:
    from personagym.learn.grpo_torch import evaluate_first_answers

    env = PersonaChatEnv()
    rewards = evaluate_first_answers(policy, env, [5, 6], max_tokens=8)
    assert rewards.tolist() == evaluate_first_answers(policy, env, [5, 6], max_tokens=8).tolist()
    completions = asyncio.run(policy.generate(requests(1, temperature=0.0)))
    assert completions[0].text == asyncio.run(policy.generate(requests(1, temperature=0.0)))[0].text
    for seed, reward in zip([5, 6], rewards, strict=True):  # the very answer, stepped on a fresh env
        observation, _ = env.reset(seed=seed)
        request = ChatRequest.model_validate({"messages": prompt_messages(observation["message"], []),
                                              "sampling": {"temperature": 0.0, "max_tokens": 8, "seed": seed}})
        answer = asyncio.run(policy.generate([request]))[0].text
        assert env.step(answer)[1] == pytest.approx(reward)


def test_whole_episodes_are_scored_as_stepping_their_answers_to_the_end(policy) -> None:
    from personagym.envs.rewards import COMPONENTS
    from personagym.learn.grpo_torch import evaluate_episodes, evaluate_first_answers

    env = PersonaChatEnv(max_turns=4)
    scores = evaluate_episodes(policy, env, [5, 6], max_tokens=8)
    again = evaluate_episodes(policy, env, [5, 6], max_tokens=8)
    assert scores.answers == again.answers and scores.returns.tolist() == again.returns.tolist()
    for k, seed in enumerate([5, 6]):  # the very answers, stepped on a fresh env, end the episode at the last
        env.reset(seed=seed)
        total, summed = 0.0, dict.fromkeys(COMPONENTS, 0.0)
        for i, answer in enumerate(scores.answers[k]):
            _, reward, terminated, truncated, info = env.step(answer)
            total += reward
            for name in COMPONENTS:
                summed[name] += info["reward_components"][name]
            assert (terminated or truncated) == (i == len(scores.answers[k]) - 1)
        assert scores.returns[k] == pytest.approx(total)
        assert scores.components[k].tolist() == pytest.approx([summed[name] for name in COMPONENTS])
        assert scores.turns[k] == len(scores.answers[k]) >= 1
    first = evaluate_episodes(policy, env, [5, 6], max_tokens=8, max_answers=1)
    assert first.turns.tolist() == [1, 1]
    assert [a[0] for a in first.answers] == [a[0] for a in scores.answers]
    assert first.returns.tolist() == evaluate_first_answers(policy, env, [5, 6], max_tokens=8).tolist()
    with pytest.raises(ValueError, match="max_answers must be a positive int, got 0"):
        evaluate_episodes(policy, env, [5], max_answers=0)


def test_bad_input_is_named(local_model_dir: Path, tmp_path: Path, policy) -> None:
    from personagym.learn.grpo_torch import GRPOTrainer, TorchPolicy, TrainConfig, evaluate_first_answers

    with pytest.raises(FileNotFoundError, match="model must be a Hugging Face model folder"):
        TorchPolicy(tmp_path)
    with pytest.raises(ValueError, match=r"learning_rate must be a number in \(0, 1\], got 0"):
        TrainConfig(learning_rate=0)
    with pytest.raises(ValueError, match="micro_batch must be an int"):
        TrainConfig(micro_batch=0)
    with pytest.raises(TypeError, match="policy must be a TorchPolicy, got str"):
        GRPOTrainer("model", [PersonaChatEnv()])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seeds must hold at least one env seed"):
        evaluate_first_answers(policy, PersonaChatEnv(), [])
    with pytest.raises(ValueError, match=r"seeds\[1\] must be an int"):
        evaluate_first_answers(policy, PersonaChatEnv(), [1, -2])


def test_a_saved_model_loads_with_the_weights_it_had(policy, tmp_path: Path) -> None:
    from personagym.learn.grpo_torch import TorchPolicy

    folder = policy.save(tmp_path / "trained")
    loaded = TorchPolicy(folder)
    for (name, mine), theirs in zip(policy.lm.state_dict().items(), loaded.lm.state_dict().values(), strict=True):
        assert mine.equal(theirs), name
    again = policy.save(folder)  # a model folder saved before is replaced whole
    assert again == folder and not list(tmp_path.glob(".trained.*"))
    taken = tmp_path / "notes"
    taken.mkdir()
    (taken / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="exists and is not a model folder"):
        policy.save(taken)
    assert (taken / "mine.txt").read_text() == "keep me"
