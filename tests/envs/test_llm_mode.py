"""LLM mode of the envs: the language surface over template turns, the env options, the batched env."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import jsonschema
import numpy as np
import pytest

from personagym.data.trajectories import read_jsonl, trajectory_json_schema
from personagym.envs.chat import PersonaChatEnv
from personagym.envs.vector import PersonaChatVectorEnv
from personagym.llm.openai_backend import OpenAIBackend
from personagym.llm.types import ChatRequest, Completion
from personagym.llm.vllm_backend import VLLMBackend
from personagym.records import PKI, Intent, NoiseRecord, Trajectory, UserTurn
from personagym.simulators.analyzer import shared_analyzer
from personagym.simulators.llm_renderer import (
    LanguageSurface,
    SurfaceItem,
    _check,
    clean_completion,
    request_seed,
    respan,
)

ACTIONS = [
    "Here are three ideas: try a beginner class, a podcast, and a short book. Want more detail?",
    "Sure. Keep it short: one plan, one step a day.",
    "What matters most to you here: budget, time, or quality?",
    "Understood, here is a shorter version with a table.\n\n| step | what |\n|---|---|\n| 1 | start |",
] * 4


def play(env: gym.Env, seed: int) -> Trajectory:
    """A fixed action sequence (independent of what the user says), so rewards can be compared across modes."""
    env.reset(seed=seed)
    for action in ACTIONS:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            break
    return env.unwrapped.trajectory()


# -- template mode and bad input ---------------------------------------------------------------
def test_template_mode_is_the_default_and_records_no_llm_settings() -> None:
    env = PersonaChatEnv()
    assert env.llm is None and env.backend is None
    assert "llm" not in play(env, 0).config
    assert play(PersonaChatEnv(backend="template"), 0) == play(PersonaChatEnv(), 0)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"backend": "lokal"}, ValueError, r"^backend: unknown kind 'lokal' \(did you mean 'local'\?\)"),
    # registry.check_backend_args' rules, in the env's keywords (not make_backend's "backend kind")
    ({"model": "x"}, ValueError, r"^backend 'template' uses no LLM and takes no options; got \{'model': 'x'\}: "
                                 r"leave them out, or choose an LLM with backend local, vllm or openai$"),
    ({"backend": "template", "base_url": "http://127.0.0.1:9/v1"}, ValueError,
     r"^backend 'template' uses no LLM and takes no options; got \{'base_url': 'http://127.0.0.1:9/v1'\}"),
    ({"backend": "openai"}, ValueError, r"^backend 'openai' needs model \(the served model name\); got None$"),
    ({"backend": 3}, TypeError, r"backend must be .* got int"),
    ({"backend": "template", "llm": {"atempts": 2}}, ValueError, r"atempts"),
    ({"backend": "openai", "model": "m", "base_url": "ftp://x"}, ValueError, r"base_url must be an http"),
])
def test_bad_llm_arguments_name_the_value(kwargs: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        PersonaChatEnv(**kwargs)


def test_vector_env_in_template_mode_matches_single_envs() -> None:
    vec = PersonaChatVectorEnv(3, noise_rate=0.5)
    obs, _ = vec.reset(seed=10)
    singles = [PersonaChatEnv(noise_rate=0.5) for _ in range(3)]
    expected = [env.reset(seed=10 + i)[0]["message"] for i, env in enumerate(singles)]
    assert list(obs["message"]) == expected
    for action in ACTIONS[:3]:
        obs, rewards, terminated, truncated, _ = vec.step([action] * 3)
        for i, env in enumerate(singles):
            if env._done:
                continue
            o, r, te, tr, _ = env.step(action)
            assert rewards[i] == r and terminated[i] == te and truncated[i] == tr
            if not (te or tr):
                assert obs["message"][i] == o["message"]
    with pytest.raises(ValueError, match="actions must be a sequence of 3 strings"):
        vec.step(["only one"])
    vec.close()


def test_vector_env_checks_every_action_before_any_env_moves() -> None:
    vec = PersonaChatVectorEnv(2)
    obs, _ = vec.reset(seed=np.int64(3))
    assert list(obs["message"]) == [PersonaChatEnv().reset(seed=s)[0]["message"] for s in (3, 4)]
    with pytest.raises(TypeError, match=r"actions\[1\]: action must be a str .*got int"):
        vec.step(["ok", 5])
    obs, *_ = vec.step(["ok", "ok"])
    assert list(obs["turn"]) == [1, 1]  # in step: the failed batch moved neither env
    vec.close()


# -- the surface's pure parts --------------------------------------------------------------------
def test_check_requires_truth_phrases_and_rejects_removed_ones() -> None:
    assert _check("I love Jazz, budget $50", ["jazz", "$50"], ()) == ""
    assert "missing required phrases ['$50']" in _check("I love jazz", ["jazz", "$50"], ())
    assert "kept removed phrases" in _check("jazz for $50", ["jazz"], ["$50"])
    assert _check("", [], ()) == "empty message"
    assert "assistant" in _check("Assistant: here you go", [], ())
    assert _check("same", [], (), differ_from="same ") == "no change to the clean message"


@pytest.fixture(scope="module")
def surface(schema) -> LanguageSurface:
    """A language surface whose checks run without a model (its backend is never called)."""
    return LanguageSurface(object(), shared_analyzer(schema.taxonomy))  # type: ignore[arg-type]


# (completion, reference: the template text, required phrases, intent, why it must be refused)
WRONG_WORDS = [
    ("I'm not vegan, just so you know.", "Just so you know, I'm vegan.", ["I'm vegan"], "preference_disclosure",
     "missing required phrases"),
    ("I'm not so interested in mathematics.", "I don't mind mathematics.", ["mathematics"],
     "preference_disclosure", "tells more about the user"),
    ("Mathematics lately. Not so interesting, honestly.", "I'm enjoying mathematics a lot these days.", ["mathematics"],
     "preference_disclosure", "negates differently near the turn's facts"),
    ("I can spend a moderate amount. I eat pretty much everything. I don't drive, I take public transit.",
     "Oh, one thing: I can spend a moderate amount.", ["I can spend a moderate amount"], "preference_disclosure",
     "states other facts than the turn: added [('diet', 'omnivore', 1), ('transport_access'"),
    ("I don't love Latin music, but I don't hate it either. I just love Italian food.",
     "I don't love Latin music, but I don't hate it either.", ["Latin music"], "preference_disclosure",
     "added [('likes', 'food_cooking/cuisines/italian_cuisine', 1)]"),
    ("Honestly, I'd put funk among my favorite things. I'm not religious, but I'm loving it.",
     "Honestly, I'd put funk among my favorite things in the world.", ["funk"], "preference_disclosure",
     "tells more about the user: \"I'm not\""),
    ("I'm a teacher. What's the history behind mathematics?", "What's the history behind mathematics?",
     ["mathematics"], "task_request", "tells more about the user: \"I'm a\""),
    ("As an AI, I love composting.", "Just so you know, I'm a huge fan of composting.", ["composting"],
     "preference_disclosure", "not the user's message: 'As an AI'"),
    ("Sure, I'd be happy to help you plan a trip to Machu Picchu.", "Help me plan a trip around Machu Picchu.",
     ["Machu Picchu"], "task_request", "not the user's message: 'happy to help'"),
    ('Your next message should be about yourself: "I absolutely love party card games."',
     "I absolutely love party card games.", ["party card games"], "preference_disclosure",
     "not the user's message: 'next message'"),
    ("Here's the rewritten message: I absolutely love party card games.", "I absolutely love party card games.",
     ["party card games"], "preference_disclosure", "not the user's message: 'rewritten'"),
    ("I love drum and bass.", "I'm thinking of turning rum into a side hustle.", ["rum"], "task_request",
     "missing required phrases ['rum']"),
    ("This is a question about a degree in materials science.",
     "Quick one: Is a degree necessary to work in materials science?", ["materials science"], "task_request",
     "no longer reads as a task request"),
    ("I hope you're having a great week. How's your family doing?", "Sounds good. Awesome, thanks. Talk later!",
     [], "goodbye", "asks a question the turn does not"),
    ("Howdy there. Howdy there. Howdy there.", "Okay. You've been a big help. Bye for now!", [], "goodbye",
     "repeats a sentence"),
    ("Put together a starter syllabus for glassblowing. I'm really passionate about it and I'm considering a "
     "career in the field, and I'm going to try to find some materials and start creating my own glass soon.",
     "Put together a starter syllabus for glassblowing.", ["glassblowing"], "task_request",
     "characters for a 49-character message"),
]


@pytest.mark.parametrize(("text", "reference", "required", "intent", "why"), WRONG_WORDS)
def test_check_refuses_words_that_change_the_facts_or_are_not_the_users(
        surface: LanguageSurface, text: str, reference: str, required: list[str], intent: str, why: str) -> None:
    # completions of the embedded model the old check kept: a fact negated, flipped, added (the hidden profile,
    # which the renderer's prompt holds, or an invented taste) or lost, the prompt echoed, the assistant's voice
    assert why in _check(text, required, (), reference=reference, intent=intent, facts=surface.facts)


@pytest.mark.parametrize(("text", "reference", "required", "intent"), [
    ("Would you help me with a simple spreadsheet layout for tracking cryptocurrency? In case it matters, the "
     "more humor the better.", "Could you create a simple spreadsheet layout for tracking cryptocurrency? In case "
     "it matters, the more humor the better.", ["cryptocurrency", "the more humor the better"], "task_request"),
    ("Honestly, I really love memoirs!", "I absolutely love memoirs.", ["memoirs"], "preference_disclosure"),
    ("Honestly, I'm not a fan of recitals.", "I am not a fan of recitals.", ["recitals"], "preference_disclosure"),
    ("Is a degree needed to work in materials science? Thanks!",
     "Quick one: Is a degree necessary to work in materials science? Anything helps, thanks.",
     ["materials science"], "task_request"),
    ("Great, thanks so much. Talk soon!", "Sounds good. Awesome, thanks. Talk later!", [], "goodbye"),
    ("Just so you know, I\u2019m vegan.", "Just so you know, I'm vegan.", ["I'm vegan"], "preference_disclosure"),
])
def test_check_keeps_a_paraphrase_that_says_the_same(
        surface: LanguageSurface, text: str, reference: str, required: list[str], intent: str) -> None:
    assert _check(text, required, (), reference=reference, intent=intent, facts=surface.facts) == ""


class Scripted:
    """A backend that answers each request with what `answer(stage, prompt)` returns (no model)."""

    name, model = "scripted", "scripted"

    def __init__(self, answer) -> None:
        from personagym.llm.types import Usage

        self.answer, self.usage, self.prompts = answer, Usage(), []

    async def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        self.prompts += [r.messages[-1].content for r in requests]
        return [Completion(text=self.answer(r.tag.split()[0], r.messages[-1].content), finish_reason="stop")
                for r in requests]

    async def aclose(self) -> None:
        pass


def budget_turn() -> UserTurn:
    """A noised request whose noise kept its topic and budget and added a second request."""
    clean = "What would be a good film festival-themed costume for around $120?"
    noisy = clean + " Separately, can you give me a random fun fact?"
    return UserTurn(session=0, turn=0, intent=Intent(kind="task_request", slots={"budget": "for around $120"}),
                    text=noisy, clean_text=clean, pkis=[], noise=NoiseRecord(
                        layer="ambiguity", strategies=["multiple_intents"], clean=clean, noisy=noisy))


def test_distractor_must_keep_what_the_noise_kept(surface: LanguageSurface) -> None:
    # the distractor was held to the PKI evidence only: it dropped the topic and the budget the record still held
    turn = budget_turn()
    assert {"film festival", "for around $120"} <= set(surface.kept_phrases(turn))

    def answer(stage: str, prompt: str) -> str:
        if stage == "render":
            return "Any ideas for a film festival-themed costume for around $120?"
        return "need a film festival costume idea, something fun?? also tell me a random fact"

    scripted = LanguageSurface(Scripted(answer), surface.analyzer)
    item = SurfaceItem(turn=turn, persona_summary="", key="k")
    result = asyncio.run(scripted.distract([item], [answer("render", "")]))
    assert result.texts == [None] and "missing required phrases ['for around $120']" in result.failures[0][0]
    (out,) = asyncio.run(scripted.realize([item]))
    assert out.rendered_by == "template_fallback" and out.text == turn.text


def test_a_leaking_render_falls_back_and_a_faithful_one_is_kept(surface: LanguageSurface) -> None:
    pki = PKI(kind="attribute", key="budget_level", value="moderate", evidence="I can spend a moderate amount",
              start=15, end=44)
    text = "Oh, one thing: I can spend a moderate amount."
    turn = UserTurn(session=0, turn=1, intent=Intent(kind="preference_disclosure", attribute="budget_level",
                                                     value="moderate"),
                    text=text, clean_text=text, pkis=[pki], noise=NoiseRecord(clean=text, noisy=text))
    item = SurfaceItem(turn=turn, persona_summary="I keep kosher. I have a dog. I can spend a moderate amount.",
                       key="k")
    leaky = Scripted(lambda stage, prompt: "I keep kosher and I can spend a moderate amount.")
    (out,) = asyncio.run(LanguageSurface(leaky, surface.analyzer, attempts=2).realize([item]))
    assert out.rendered_by == "template_fallback" and out.text == text and len(leaky.prompts) == 2
    faithful = Scripted(lambda stage, prompt: "btw, I can spend a moderate amount.")
    (out,) = asyncio.run(LanguageSurface(faithful, surface.analyzer).realize([item]))
    assert out.rendered_by == "llm" and out.text == "btw, I can spend a moderate amount."
    assert out.text[out.pkis[0].start:out.pkis[0].end] == "I can spend a moderate amount"


def test_respan_points_evidence_into_the_new_text() -> None:
    pkis = [PKI(kind="interest", key="music/jazz", evidence="Jazz", start=0, end=4),
            PKI(kind="interest", key="x/y", evidence="", start=-1, end=-1)]
    text = "honestly i kinda love jazz lately"
    out = respan(pkis, text)
    assert (out[0].start, out[0].end, out[0].evidence) == (22, 26, "jazz")
    assert text[out[0].start:out[0].end] == out[0].evidence
    assert (out[1].start, out[1].end) == (-1, -1)
    rum = PKI(kind="interest", key="drinks_beverages/cocktails_spirits/rum", evidence="rum", start=0, end=3)
    (found,) = respan([rum], "Drum and bass, and rum on the side")
    assert (found.start, found.evidence) == (19, "rum")  # a word of its own, not the end of "Drum"


def test_completion_cleanup_and_request_seeds() -> None:
    assert clean_completion('User: "Can you help me plan a trip?"\n\nAssistant: sure') == "Can you help me plan a trip?"
    assert clean_completion('"Hello! Plan a trip for me.') == "Hello! Plan a trip for me."  # a quote never closed
    assert request_seed("t_1/s0t1", "render", 0) == request_seed("t_1/s0t1", "render", 0)
    assert request_seed("t_1/s0t1", "render", 0) != request_seed("t_1/s0t1", "render", 1)


# -- with a real model -------------------------------------------------------------------------------
#: LLM-mode env settings that keep tests short on a CPU: three answers per episode, short utterances.
SHORT = {"max_turns": 3}
SHORT_LLM = {"max_tokens": 64}


def check_llm_trajectory(trajectory: Trajectory) -> dict[str, int]:
    """Validate a trajectory written in LLM mode; count who wrote its user turns."""
    jsonschema.validate(json.loads(trajectory.model_dump_json()), trajectory_json_schema())
    counts: dict[str, int] = {}
    for turn in trajectory.user_turns():
        counts[turn.rendered_by] = counts.get(turn.rendered_by, 0) + 1
        assert turn.noise.clean == turn.clean_text and turn.noise.noisy == turn.text
        for pki in turn.pkis:
            if pki.start >= 0:
                assert turn.text[pki.start:pki.end] == pki.evidence
        if turn.rendered_by == "llm" and turn.noise.layer != "none":
            assert turn.noise.written_by == "llm" and turn.text != turn.clean_text
    assert set(counts) <= {"llm", "template_fallback", "template"}
    return counts


@pytest.mark.llm
def test_openai_backend_env_writes_the_words_and_keeps_the_rewards(vllm_server) -> None:
    # the 135M test model keeps the required phrases in few of its answers (which ones moves with the
    # library versions that convert it): play episodes until one has a turn the LLM wrote
    for seed in range(7, 19):
        backend = OpenAIBackend(vllm_server.served_model_name, base_url=vllm_server.base_url)
        env = PersonaChatEnv(backend=backend, noise_rate=0.5, llm=SHORT_LLM, **SHORT)
        trajectory = play(env, seed)
        env.close()
        counts = check_llm_trajectory(trajectory)
        assert trajectory.config["llm"]["backend"] == "openai"
        assert backend.usage.completion_tokens > 0
        # the LLM writes words only: the same actions earn the same rewards as in template mode
        template = play(PersonaChatEnv(noise_rate=0.5, **SHORT), seed)
        assert [t.reward_components for t in trajectory.turns] == [t.reward_components for t in template.turns]
        assert [t.user.intent for t in trajectory.turns] == [t.user.intent for t in template.turns]
        if counts.get("llm", 0) >= 1:
            break
    else:
        pytest.fail("no user turn written by the LLM in 12 episodes (every one fell back to the template)")


@pytest.mark.llm
def test_async_api_inside_a_running_loop(vllm_server) -> None:
    import asyncio

    env = PersonaChatEnv(backend="openai", model=vllm_server.served_model_name, base_url=vllm_server.base_url,
                         llm={"distract": False, **SHORT_LLM}, **SHORT)

    async def main() -> Trajectory:
        with pytest.raises(RuntimeError, match=r"await env.areset\(\)"):
            env.reset(seed=1)
        await env.areset(seed=1)
        for action in ACTIONS[:2]:
            *_, terminated, truncated, _ = await env.astep(action)
            if terminated or truncated:
                break
        with pytest.raises(RuntimeError, match=r"await env.aclose\(\)"):
            env.close()
        await env.aclose()  # closes the backend the env made
        return env.trajectory()

    check_llm_trajectory(asyncio.run(main()))


@pytest.mark.llm
def test_vector_env_sends_one_batch_per_stage(vllm_server) -> None:
    class Counting(OpenAIBackend):
        batches: list[int]

        async def generate(self, requests):  # instrumentation of the real backend, not a stand-in
            self.batches.append(len(requests))
            return await super().generate(requests)

    backend = Counting(vllm_server.served_model_name, base_url=vllm_server.base_url)
    backend.batches = []
    vec = PersonaChatVectorEnv(4, backend=backend, noise_rate=0.0, llm={"attempts": 1, **SHORT_LLM})
    vec.reset(seed=3)
    assert backend.batches == [4]  # the four opening messages in one request batch
    vec.step(ACTIONS[:4])
    assert backend.batches == [4, 4]
    vec.close()


@pytest.mark.llm
def test_dead_server_falls_back_and_says_so() -> None:
    from personagym.llm.server import free_port

    backend = OpenAIBackend("nobody", base_url=f"http://127.0.0.1:{free_port()}/v1", max_attempts=2,
                            timeout=5.0, backoff_initial=0.01, backoff_max=0.05)
    env = PersonaChatEnv(backend=backend, **SHORT)
    trajectory = play(env, 0)
    assert {t.rendered_by for t in trajectory.user_turns()} == {"template_fallback"}
    assert backend.usage.failed >= 1
    template = play(PersonaChatEnv(**SHORT), 0)
    assert [t.user.text for t in trajectory.turns] == [t.user.text for t in template.turns]


@pytest.mark.llm
def test_cli_rollout_against_a_vllm_server(vllm_server, tmp_path: Path) -> None:
    # the CLI exits 1 when no user turn kept the 135M model's words (which seeds do moves with the library
    # versions that convert it): try a few episodes, one at a time
    out = tmp_path / "server.jsonl"
    for seed in (6, 5, 7, 8, 9, 10, 11, 12):
        cmd = [sys.executable, "-m", "personagym.cli", "rollout", "--backend", "openai", "--model",
               vllm_server.served_model_name, "--base-url", vllm_server.base_url, "--policy", "tracker",
               "--episodes", "1", "--seed", str(seed), "--max-turns", "2", "--out", str(out), "--json"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if done.returncode == 0:
            break
        assert done.returncode == 1 and "no user turn kept the LLM's words" in done.stderr, done.stderr
        assert not out.exists()  # nothing written that would pass template words off as the LLM's
    else:
        pytest.fail("no episode of seeds 5-12 had a user turn written by the model")
    (trajectory,) = list(read_jsonl(out))
    assert any(u.rendered_by == "llm" for u in trajectory.user_turns())
    check_llm_trajectory(trajectory)
    assert trajectory.config["llm"]["model"] == vllm_server.served_model_name
    assert trajectory.config["max_turns"] == 2 and len(trajectory.turns) <= 2


@pytest.mark.llm
def test_cli_rollout_on_the_embedded_local_model(local_model_dir, tmp_path: Path) -> None:
    out = tmp_path / "local.jsonl"
    cmd = [sys.executable, "-m", "personagym.cli", "rollout", "--backend", "local", "--policy", "generic",
           "--episodes", "1", "--seed", "2", "--max-turns", "2", "--out", str(out), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["episodes"] == 1  # the engine's logs went to stderr: stdout is the JSON alone
    (trajectory,) = list(read_jsonl(out))
    counts = check_llm_trajectory(trajectory)
    assert trajectory.config["llm"]["backend"] == "vllm"
    assert sum(counts.values()) == len(trajectory.user_turns())


@pytest.mark.llm
def test_judge_term_is_bounded_recorded_and_added_to_the_reward(vllm_server) -> None:
    backend = OpenAIBackend(vllm_server.served_model_name, base_url=vllm_server.base_url)
    env = PersonaChatEnv(backend=backend, llm={"judge": True, "judge_weight": 0.5, "render": False,
                                               "distract": False}, **SHORT)
    trajectory = play(env, 4)
    template = play(PersonaChatEnv(**SHORT), 4)
    for turn, plain in zip(trajectory.turns, template.turns, strict=True):
        assert turn.judge is not None
        assert 0.0 <= turn.reward_components["judge"] == turn.judge.term <= 0.5
        assert turn.judge.valid or turn.judge.term == 0.0
        assert turn.reward == pytest.approx(plain.reward + turn.judge.term)
        assert {k: v for k, v in turn.reward_components.items() if k != "judge"} == plain.reward_components
    check_llm_trajectory(trajectory)
    env.close()


@pytest.mark.llm
def test_sixteen_envs_in_one_batch_keep_the_cpu_engine_alive(vllm_backend: VLLMBackend) -> None:
    # sixteen users' prompts exceed one engine step's token budget: with chunked prefill, vLLM split a
    # prompt and rewound its seeded generator, which a CPU generator cannot do, and the engine died
    before = (vllm_backend.usage.requests, vllm_backend.usage.failed)
    vec = PersonaChatVectorEnv(16, backend=vllm_backend, llm=SHORT_LLM, **SHORT)
    vec.reset(seed=0)
    vec.step(["Here are three ideas you might enjoy."] * 16)
    requests, failed = (now - then for now, then in zip((vllm_backend.usage.requests, vllm_backend.usage.failed),
                                                        before, strict=True))
    assert requests >= 32 and failed < requests // 4, (requests, failed)
