"""Dataset statistics and the dataset card of a generated directory."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from personagym.cli import app
from personagym.data.generate import generate, load_manifest, persona_seed, read_generated
from personagym.data.stats import _card_text, _distribution, _stats, dataset_stats, write_card
from personagym.data.tally import Tally
from personagym.data.trajectories import from_row, trajectory_features
from tests.data.gen_policy import FAIL_PERSONA_SEED

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    generate(out, personas=12, episodes_per_persona=2, shard_size=5, seed=1, fmt="jsonl")
    return out


@pytest.fixture(scope="module", params=["jsonl", "parquet"])
def tiny(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A six-persona run in two shards, in each format."""
    out = tmp_path_factory.mktemp(f"tiny-{request.param}")
    generate(out, personas=6, episodes_per_persona=1, shard_size=4, fmt=request.param)
    return out


@pytest.fixture(scope="module")
def one(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of one persona and one dialog."""
    out = tmp_path_factory.mktemp("one")
    generate(out, personas=1, fmt="jsonl")
    return out


def test_stats_agree_with_the_trajectories(run: Path) -> None:
    stats = dataset_stats(run)
    trajectories = list(read_generated(run))
    users = [u for t in trajectories for u in [*(turn.user for turn in t.turns), t.final_user] if u is not None]
    assert stats["trajectories"] == 24 and stats["personas"] == 12
    assert stats["user_utterances"] == len(users)
    turns = stats["turns_per_dialog"]
    assert sum(turns["histogram"].values()) == 24
    assert turns["mean"] == pytest.approx(sum(len(t.turns) for t in trajectories) / 24, abs=1e-4)
    assert sum(stats["pkis_per_dialog"]["histogram"].values()) == 24
    assert sum(stats["pki_kinds"].values()) == sum(len(u.pkis) for u in users)
    assert sum(stats["noise_layers"].values()) == len(users)
    words = [w for u in users for w in re.findall(r"\w+", u.text.lower())]
    assert stats["vocabulary_size"] == len(set(words))
    assert stats["distinct_1"] == pytest.approx(len(set(words)) / len(words), abs=1e-4)
    assert 0 < stats["distinct_1"] < stats["distinct_2"] <= 1
    coverage = stats["category_coverage"]
    assert coverage["categories"] == len(coverage["pkis"]) == 30
    assert coverage["covered_by_interests"] == sum(1 for v in coverage["interests"].values() if v)
    assert sum(coverage["interests"].values()) == sum(len(t.persona.interests) for t in trajectories[::2])


def test_stats_read_by_worker_processes_are_the_same(run: Path, tmp_path: Path) -> None:
    assert dataset_stats(run, workers=2) == dataset_stats(run)
    # each worker checks the sha256 of the shards it reads
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    last = sorted(copy.glob("shard-*.jsonl"))[-1]
    last.write_text(last.read_text().replace('"policy":"generic"', '"policy":"genetic"', 1))
    with pytest.raises(ValueError, match=rf"{last.name} does not match the sha256"):
        dataset_stats(copy, workers=2)
    with pytest.raises(ValueError, match=r"workers must be a positive int, got 0"):
        dataset_stats(run, workers=0)
    with pytest.raises(ValueError, match=r"workers: 100,000 worker processes are too many here; expected 1 to"):
        dataset_stats(run, workers=100_000)


@pytest.mark.parametrize(("fmt", "workers"), [("jsonl", 1), ("parquet", 2)])
def test_counts_kept_while_generating_give_the_same_stats_without_reading(
        tmp_path: Path, run: Path, fmt: str, workers: int) -> None:
    tally = Tally()
    generate(tmp_path, personas=12, episodes_per_persona=2, shard_size=5, seed=1, fmt=fmt, workers=workers,
             tally=tally)
    assert tally.shards == {0, 1, 2} and len(tally.turns) == 24
    expected, card = dataset_stats(tmp_path), write_card(tmp_path, plots=False).read_text()
    assert {k: v for k, v in expected.items() if k != "config"} == \
        {k: v for k, v in dataset_stats(run).items() if k != "config"}  # the same trajectories in either format
    for shard in tmp_path.glob(f"shard-*.{fmt}"):  # the tally's shards are not read again
        shard.write_bytes(b"not a shard")
    assert dataset_stats(tmp_path, tally=tally) == expected
    assert write_card(tmp_path, plots=False, tally=tally).read_text() == card


def test_a_resumed_run_reads_only_the_shards_of_the_earlier_run(
        tmp_path: Path, run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAIL_PERSONA_SEED, str(persona_seed(1, 7)))  # persona 7 is in shard 1
    kwargs = {"personas": 12, "episodes_per_persona": 2, "shard_size": 5, "seed": 1, "fmt": "jsonl",
              "policy": "tests.data.gen_policy:ControlledPolicy"}
    first = Tally()
    with pytest.raises(Exception, match="planned failure"):
        generate(tmp_path, tally=first, **kwargs)
    assert first.shards == set(load_manifest(tmp_path).committed()) == {0}
    monkeypatch.delenv(FAIL_PERSONA_SEED)
    second = Tally()
    generate(tmp_path, resume=True, tally=second, **kwargs)
    assert second.shards == {1, 2}
    assert dataset_stats(tmp_path, tally=second) == dataset_stats(tmp_path)
    with pytest.raises(ValueError, match=r"shards \[1, 2\] are counted twice"):
        Tally().merge(second).merge(second)
    with pytest.raises(ValueError, match="counts shards of another run"):
        dataset_stats(run, tally=second)
    with pytest.raises(TypeError, match="tally must be a personagym.data.tally.Tally, got dict"):
        dataset_stats(run, tally={})  # type: ignore[arg-type]


def test_card_has_the_config_stats_and_plots(run: Path) -> None:
    pytest.importorskip("matplotlib")
    card = write_card(run)
    text = card.read_text()
    assert text.startswith("---\nconfigs:\n- config_name: default\n  data_files: \"shard-*.jsonl\"")
    assert "| trajectories | 24 |" in text and "episodes_per_persona=2" in text
    images = re.findall(r"!\[[^\]]+\]\((card/[a-z_]+\.png)\)", text)
    assert len(images) == 5
    for image in images:
        assert (run / image).read_bytes().startswith(b"\x89PNG")


def test_card_of_a_multi_session_run_says_how_preferences_evolved(tmp_path: Path) -> None:
    """A LongTerm dataset's card said nothing of what makes it one (PersonaMem reports how preferences evolve):
    it counts sessions, the gaps between them, drifts and drawn life events by what they changed (not their
    consequences: an interest dropped or brought with one), as the trajectories hold them; a one-session
    card shows none of it."""
    from personagym.simulators.preferences import drawn_life_event

    pytest.importorskip("matplotlib")
    out = tmp_path / "longterm"
    generate(out, env_id="PersonaGym/LongTerm-v0", personas=30, shard_size=10, seed=2, fmt="jsonl")
    dynamics = dataset_stats(out)["preference_dynamics"]
    trajectories = list(read_generated(out))
    events = [e for t in trajectories for e in t.session_events]
    drawn = [e for e in events if drawn_life_event(e)]
    assert len(drawn) < sum(e.kind == "life_event" for e in events)  # consequences and outgrown values left out
    assert sum(dynamics["life_events_by_what_changed"].values()) == len(drawn) > 5
    assert dynamics["life_events_per_dialog"]["mean"] == pytest.approx(len(drawn) / 30, abs=1e-4)
    assert dynamics["drifts_per_dialog"]["mean"] == pytest.approx(sum(e.kind == "drift" for e in events) / 30,
                                                                  abs=1e-4)
    sessions = sum(1 + max(turn.session for turn in t.turns) for t in trajectories)
    assert dynamics["sessions_per_dialog"]["mean"] == pytest.approx(sessions / 30, abs=1e-4)
    assert sum(dynamics["gaps"].values()) == sessions - 30
    text = write_card(out).read_text()
    assert "| life events by what they changed | " in text and "card/life_events.png" in text
    generate(tmp_path / "chat", personas=3, fmt="jsonl")
    assert "life events" not in write_card(tmp_path / "chat").read_text()


def test_card_without_matplotlib_says_how_to_get_it(run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"^Plotting the dataset card needs the 'matplotlib' package, which is not "
                                          r"installed: pip install 'personagym\[datasets\]' "
                                          r"\(or write_card\(\.\.\., plots=False\)\)$"):
        write_card(run)
    assert "## Distributions" not in write_card(run, plots=False).read_text()


def test_card_declares_the_features_so_datasets_loads_the_directory(tiny: Path, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    write_card(tiny, plots=False)
    # JSON lines used to fail here: typed by inference, a column all null in the first rows took no value later
    loaded = datasets.load_dataset(str(tiny), split="train", cache_dir=str(tmp_path))
    assert loaded.features == trajectory_features()
    assert [from_row(row) for row in loaded] == list(read_generated(tiny))


def test_card_without_datasets_declares_no_features_and_says_how_to_add_them(
        tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # makes the import fail
    text = write_card(tiny, plots=False).read_text()
    assert "dataset_info" not in text
    assert "`pip install 'personagym[datasets]'` and run `personagym stats DIR` to add them" in text


def _card_axes(out: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Write the card of `out` and return each chart's axes by title, as drawn before saving."""
    figure = pytest.importorskip("matplotlib.figure")
    axes: dict[str, Any] = {}
    savefig = figure.Figure.savefig

    def keep(fig: Any, *args: Any, **kwargs: Any) -> None:
        axes[fig.axes[0].get_title()] = fig.axes[0]
        savefig(fig, *args, **kwargs)

    monkeypatch.setattr(figure.Figure, "savefig", keep)
    write_card(out)
    return axes


@pytest.mark.parametrize("tiny", ["jsonl"], indirect=True)  # the plots do not depend on the format
def test_card_plots_integer_distributions_on_a_number_line_with_integer_counts(
        tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    axes = _card_axes(tiny, monkeypatch)
    stats = dataset_stats(tiny)
    for title, key in [("Answered turns per dialog (all its sessions)", "turns_per_dialog"),
                       ("PKIs per dialog", "pkis_per_dialog")]:
        ax = axes[title]
        centres = [bar.get_x() + bar.get_width() / 2 for bar in ax.patches]
        assert centres == pytest.approx([int(value) for value in stats[key]["histogram"]])  # gaps show
        assert all(tick == int(tick) for tick in ax.get_xticks())
    assert len(axes) == 5
    for title, ax in axes.items():  # a count of dialogs or utterances is a whole number
        counts = ax.get_xticks() if "top-level category" in title else ax.get_yticks()
        assert all(tick == int(tick) for tick in counts), title


def test_charts_of_one_dialog_keep_integer_ticks_counted_from_zero(one: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-dialog dataset's card ticked its 6 answered turns 5.6, 5.7, ... 6.4, and its chart of no
    taxonomy PKIs counted from -0.045 to 0.045."""
    axes = _card_axes(one, monkeypatch)
    assert dataset_stats(one)["category_coverage"]["covered_by_pkis"] == 0  # so one chart has no counts at all
    assert len(axes) == 5
    for title, ax in axes.items():
        horizontal = "top-level category" in title
        count_ticks, count_limits = (ax.get_xticks(), ax.get_xlim()) if horizontal else (ax.get_yticks(), ax.get_ylim())
        assert all(tick == int(tick) for tick in count_ticks), title
        assert count_limits[0] == 0 and count_limits[1] >= 1, title
        if not horizontal:
            assert all(tick == int(tick) for tick in ax.get_xticks()), title


@pytest.mark.parametrize("tiny", ["jsonl"], indirect=True)
def test_card_plots_name_both_axes(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The category charts had no label on the category axis, and every count axis said only "count"."""
    labels = {title: (ax.get_xlabel(), ax.get_ylabel()) for title, ax in _card_axes(tiny, monkeypatch).items()}
    assert labels == {
        "Answered turns per dialog (all its sessions)": ("answered turns", "dialogs"),
        "PKIs per dialog": ("PKIs", "dialogs"),
        "Noise layers of user utterances": ("noise layer", "user utterances"),
        "PKIs naming a taxonomy node, per top-level category": ("PKIs", "top-level category"),
        "Persona interests (liked or disliked) per top-level category": ("persona interests", "top-level category"),
    }


def test_card_of_one_dialog_says_dialog_and_persona_in_the_singular(one: Path) -> None:
    """It said "1 simulated dialogs (...) of 1 personas"."""
    text = write_card(one, plots=False).read_text()
    assert "\n1 simulated dialog (episodes, each with all its sessions) of 1 persona on `PersonaGym/Chat-v0`" in text


def test_card_says_over_what_distinct_n_is_counted(run: Path) -> None:
    """It said only "(the same tokens)": not whether per dialog or over the dataset, nor over n-grams or tokens."""
    stats = dataset_stats(run)
    assert (f"| distinct-1 / distinct-2 (the same tokens: distinct / all unigrams, distinct / all bigrams within an "
            f"utterance, over the whole dataset) | {stats['distinct_1']} / {stats['distinct_2']} |") in \
        write_card(run, plots=False).read_text()


def test_card_title_names_the_directory_given_as_dot(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tiny)
    assert f"\n# PersonaGym dataset: {tiny.name}\n" in write_card(".", plots=False).read_text()


def test_card_says_lines_or_rows_as_the_format_has_them(tiny: Path) -> None:
    text = write_card(tiny, plots=False).read_text()
    if load_manifest(tiny).config.format == "jsonl":
        assert "Each line of the JSON-lines shards is a `personagym.records.Trajectory`" in text
    else:
        assert "Each row of the Parquet shards is a `personagym.records.Trajectory`" in text
        assert "Each line" not in text


def test_the_card_s_call_and_command_reproduce_the_shards(tiny: Path, tmp_path: Path) -> None:
    text = write_card(tiny, plots=False).read_text()
    shards = {path.name: path.read_bytes() for path in tiny.glob("shard-*")}
    assert len(shards) == 2
    call = re.search(r"```python\n(.*?)```", text, re.DOTALL)
    assert call is not None
    exec(call[1].replace("'DIR'", repr(str(tmp_path / "call"))), {})  # as the card says, in another directory
    assert {path.name: path.read_bytes() for path in (tmp_path / "call").glob("shard-*")} == shards
    command = re.search(r"```sh\n(.*?)\n```", text, re.DOTALL)
    assert command is not None
    program, subcommand, *args = shlex.split(command[1])
    assert (program, subcommand) == ("personagym", "generate")
    result = CliRunner().invoke(app, [subcommand, *(str(tmp_path / "cli") if arg == "DIR" else arg for arg in args)])
    assert result.exit_code == 0, result.output
    assert {path.name: path.read_bytes() for path in (tmp_path / "cli").glob("shard-*")} == shards


def test_a_distribution_has_one_type_per_key_and_rounded_floats() -> None:
    odd, even = _distribution([1, 2, 3], histogram=False), _distribution([1, 2], histogram=False)
    assert odd == {"mean": 2.0, "median": 2.0, "min": 1, "max": 3} and type(odd["median"]) is float
    assert even["median"] == 1.5  # a median of counts is a float whether or not it falls on a count
    rewards = _distribution([0.123456789, -2.987654321], histogram=False)
    assert (rewards["min"], rewards["max"]) == (-2.9877, 0.1235)


def test_stats_of_no_trajectories_keep_their_keys_and_the_card_shows_dashes(run: Path) -> None:
    """An empty count (a tally of no trajectories) used to drop min/max and print Python's None in the card."""
    filled, empty = dataset_stats(run), _stats(load_manifest(run), Tally(), [])
    for key in ("turns_per_dialog", "pkis_per_dialog", "total_reward"):
        assert empty[key].keys() == filled[key].keys()
        assert empty[key]["min"] is None and empty[key]["max"] is None
    text = _card_text(run, empty, [])
    assert "None" not in text
    assert "| answered turns per dialog, all its sessions (mean / median) | - |" in text
    assert "| total reward per dialog (mean / median) | - |" in text


@pytest.mark.parametrize("damage", ["dropped", "doubled", "misnamed"])
def test_a_manifest_whose_shard_records_contradict_it_is_refused(run: Path, tmp_path: Path, damage: str) -> None:
    """Two records deleted (still "complete", 80 trajectories) gave a card of 56; shard 0 recorded again as shard 6
    gave one of 94.  Both replaced the good card, exit 0."""
    import json

    out = tmp_path / "copy"
    shutil.copytree(run, out)
    (out / "README.md").write_text("the good card\n")
    path = out / "manifest.json"
    manifest = json.loads(path.read_text())
    if damage == "dropped":
        manifest["shards"] = manifest["shards"][:-1]
        match = r"counts .* do not follow from the shard records"
    elif damage == "doubled":
        manifest["shards"].append({**manifest["shards"][0], "index": 1})
        match = r"shards\[index=1\]: recorded twice"
    else:
        manifest["shards"][0]["file"] = manifest["shards"][1]["file"]
        match = r"shards\[index=0\]\.file is 'shard-00001.jsonl'; the config gives 'shard-00000.jsonl'"
    path.write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=match):
        write_card(out)
    assert (out / "README.md").read_text() == "the good card\n"


def test_a_card_that_cannot_be_written_leaves_the_old_plots(tiny: Path, tmp_path: Path) -> None:
    """The plots were replaced before the card failed: new plots beside the old card, and a raw [Errno 21]."""
    pytest.importorskip("matplotlib")
    out = tmp_path / "copy"
    shutil.copytree(tiny, out)
    write_card(out)
    plots = {p.name: p.read_bytes() for p in (out / "card").iterdir()}
    (out / "README.md").unlink()
    (out / "README.md").mkdir()
    (out / "card" / "turns.png").write_bytes(b"old")
    with pytest.raises(OSError, match="cannot write the dataset card at .*README.md"):
        write_card(out)
    assert (out / "card" / "turns.png").read_bytes() == b"old"
    assert {p.name for p in (out / "card").iterdir()} == set(plots)


def test_the_card_removes_what_a_killed_card_write_left(tiny: Path, tmp_path: Path) -> None:
    """A `stats` killed while writing the card left hidden temporaries that every later `stats` kept: the card,
    written under the directory's lock, now removes those of the card and its plots (and nothing else)."""
    out = tmp_path / "copy"
    shutil.copytree(tiny, out)
    (out / "card").mkdir(exist_ok=True)
    hexes = "0123456789abcdef" * 2
    strays = [out / f".README.md.{hexes}.tmp", out / "card" / f".turns.png.{hexes}.tmp"]
    kept = [out / f".{load_manifest(out).shards[0].file}.{hexes}.tmp", out / ".README.md.notours.tmp",
            out / "card" / "notes.txt"]
    for path in (*strays, *kept):
        path.write_bytes(b"partial")
    write_card(out, plots=False)
    assert not any(path.exists() for path in strays)
    assert all(path.read_bytes() == b"partial" for path in kept)


def _uniform_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `generate` (one worker, in process) draw personas with uniform value weights."""
    from personagym.data import generate as gen
    make = gen.make_env
    monkeypatch.setattr(gen, "make_env", lambda env_id, **kw: make(env_id, sampler={"value_weights": "uniform"}, **kw))


def test_card_says_how_personas_were_drawn_and_lists_their_population(run: Path) -> None:
    stats = dataset_stats(run)
    [sampling] = stats["persona_sampling"]
    assert sampling["sampler"]["value_weights"] == "population" and sampling["trajectories"] == 24
    personas = {t.persona.persona_id: t.persona for t in read_generated(run)}
    diet = stats["persona_population"]["diet"]
    stated = [p.attributes["diet"] for p in personas.values() if "diet" in p.attributes]
    assert diet["stated_by"] == len(stated) and sum(diet["values"].values()) == len(stated)
    assert "favorite_cuisine" not in stats["persona_population"]  # taxonomy-valued: counted as interests
    text = write_card(run, plots=False).read_text()
    assert "value weights `population`" in text and "## Persona population" in text
    assert re.search(r"\| diet \| \d+\.\d% \| ", text) and "do not reproduce" not in text


def test_card_of_uniform_or_mixed_personas_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as m:
        _uniform_env(m)
        generate(tmp_path, personas=4, shard_size=2, fmt="jsonl")
    text = write_card(tmp_path, plots=False).read_text()
    assert "value weights `uniform`" in text and "do not reproduce this dataset's personas" in text
    # a shard redone with the population sampler (the resume check refuses it; forced here past it)
    manifest = load_manifest(tmp_path)
    (tmp_path / manifest.shards[1].file).unlink()
    manifest.drop(1)
    manifest.write(tmp_path)
    monkeypatch.setattr("personagym.data.generate._check_same_env", lambda *a: None)
    generate(tmp_path, personas=4, shard_size=2, fmt="jsonl", resume=True)
    assert "drawn with 2 different sampler configs" in write_card(tmp_path, plots=False).read_text()


def test_a_plot_that_cannot_be_written_leaves_the_old_card(tiny: Path, tmp_path: Path) -> None:
    """The card was replaced before its plots were written: with the disk full (or card/ read-only) at a plot,
    a new card stood beside missing plots, and `generate` took it for a finished dataset.  Here a real file size
    limit (RLIMIT_FSIZE, as `ulimit -f`: EFBIG, as ENOSPC would be) stops the largest plot."""
    pytest.importorskip("matplotlib")
    out = tmp_path / "copy"
    shutil.copytree(tiny, out)
    write_card(out)
    card, plots = out / "README.md", sorted((out / "card").iterdir())
    limit = card.stat().st_size + 1
    assert limit < max(p.stat().st_size for p in plots), "no plot is larger than the card: the test proves nothing"
    card.write_text("the old card\n")
    for plot in plots:
        plot.write_bytes(b"old")
    code = ("import resource, signal, sys; from personagym.data.stats import write_card; "
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
            f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); write_card(sys.argv[1])")
    proc = subprocess.run([sys.executable, "-c", code, os.fspath(out)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.fspath(REPO)}, timeout=120)
    assert proc.returncode != 0 and "File too large" in proc.stderr
    assert re.search(r"cannot write the dataset card at \S+\.png \(File too large\); the card and plots", proc.stderr)
    assert card.read_text() == "the old card\n"
    assert all(plot.read_bytes() == b"old" for plot in plots)
    assert [p.name for p in (*out.iterdir(), *(out / "card").iterdir()) if p.name.endswith(".tmp")] == []
