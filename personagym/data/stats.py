"""Statistics and a dataset card for a generated dataset, computed from its shards.

`dataset_stats` streams the trajectories once and returns plain JSON-able data:
size, dialog length, PKIs (personal knowledge items), taxonomy coverage, noise
and lexical diversity (distinct-n, Li et al. 2016).  `write_card` turns them
into a Hugging Face dataset card (``README.md``) with PNG plots; matplotlib is
imported only there, and only when plots are asked for.  The card's YAML header
declares the data files and, when `datasets` is installed, the trajectory
`datasets.Features`, so ``datasets.load_dataset(DIR, split="train")`` types the
columns as published instead of inferring them (which fails on JSON lines).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
import json
import math
import os
import re
import shlex
import statistics
from collections import Counter
from pathlib import Path
from typing import Any, get_args

import yaml

from personagym.checks import require_module
from personagym.data.generate import (
    CARD_TEMP_FILE,
    MANIFEST,
    PLOTS_DIR,
    Format,
    Manifest,
    PathLike,
    check_workers,
    load_manifest,
    read_shard,
    remove_stray_temporaries,
    shard_paths,
    worker_pool,
    writing_in,
)
from personagym.data.tally import Tally, node_valued_attributes
from personagym.data.trajectories import atomic_path, temporary_pattern, trajectory_features
from personagym.records import NoiseLayer
from personagym.rollout import make_env
from personagym.simulators.preferences import TIME_GAPS
from personagym.simulators.sampler import SamplerConfig

NOISE_LAYERS: tuple[str, ...] = get_args(NoiseLayer)
#: The value axes of charts whose values are names (top-level categories, what a life event changed), not
#: numbers or a few labels: drawn as horizontal bars, one per name.
_CATEGORY, _WHAT_CHANGED = "top-level category", "what changed (an attribute, or an interest)"
_NAMED = (_CATEGORY, _WHAT_CHANGED)
#: The `generate` parameter and the `personagym generate` option of each config field whose name differs.
_PARAMETERS = {"format": "fmt"}
_OPTIONS = {"env_id": "--env"}
#: How each `SamplerConfig.value_weights` draws attribute values, as the card says it.
_VALUE_WEIGHTS = {
    "population": "as common as the persona schema's population weights, shares and weight rules say (few blind, "
                  "vegan or nonbinary personas, a fifth with a food allergy, most over-sixties retired); attributes "
                  "without weights or shares are drawn uniformly",
    "uniform": "every value of an attribute as likely as any other (the most varied personas, the least like a "
               "real population: a third of those stating their sight are blind)",
    None: "every value as likely as any other: these trajectories were made before the sampler had population "
          "weights (their sampler config records no value_weights)",
}
#: Values listed per attribute in the card's population table (`personagym stats DIR --json` has them all).
_POPULATION_VALUES = 6
#: What needs matplotlib (in the datasets extra), and the way round it, as `require_module`'s error says them.
_PLOTS = ("Plotting the dataset card", " (or write_card(..., plots=False))")


def dataset_stats(out_dir: PathLike, *, workers: int = 1, tally: Tally | None = None) -> dict[str, Any]:
    """Statistics of the trajectories of a complete generation directory.

    Dialog length counts answered exchanges (`Trajectory.turns`); user
    utterances (`Trajectory.user_turns`) include the goodbyes that ended a
    session and the final, unanswered message, and are what the noise layers,
    PKIs and lexical figures count.  distinct-n is over the whole dataset: the
    distinct n-grams of the utterances over all their n-grams (an n-gram never
    spans two utterances; Li et al. 2016 divide by all tokens instead).
    Category coverage maps the taxonomy nodes of PKIs and of persona interests
    to their top-level category and reports which of the taxonomy's categories
    occur.  With ``workers > 1`` the shards are read in that many spawned
    processes (each checks its shards' sha256) and their counts merged: the
    same figures, sooner.  A `tally` that `generate(..., tally=...)` filled
    spares reading the shards it counted; only the others (committed by an
    earlier, resumed run) are read.
    """
    workers = check_workers(workers)
    manifest = load_manifest(out_dir)
    paths = shard_paths(out_dir, verify=False)  # raises, naming the missing shards, if the run is incomplete
    committed = manifest.committed()
    counted = _check_tally(tally, manifest.config_hash, set(committed), out_dir)
    shards = [(os.fspath(path), r.sha256) for path, r in zip(paths, committed.values(), strict=True)
              if r.index not in counted]
    env_id, fmt = manifest.config.env_id, manifest.config.format
    total = Tally()
    if tally is not None:
        total.merge(tally)
    if workers == 1 or len(shards) < 2:
        total.merge(_tally_shards(env_id, fmt, shards))
    else:
        # a few chunks per worker keep both busy to the end; each returns its counts once
        size = max(1, math.ceil(len(shards) / (workers * 4)))
        chunks = [shards[i:i + size] for i in range(0, len(shards), size)]
        with worker_pool(min(workers, len(chunks))) as pool:
            for part in pool.map(_tally_shards, [env_id] * len(chunks), [fmt] * len(chunks), chunks):
                total.merge(part)
    return _stats(manifest, total, list(_taxonomy_of(env_id)[0].top_level()), _attribute_names(env_id))


def _check_tally(tally: Tally | None, config_hash: str, committed: set[int], out_dir: PathLike) -> set[int]:
    """The shards `tally` counts, after checking it belongs to this run and counts only committed shards."""
    if tally is None:
        return set()
    if not isinstance(tally, Tally):
        raise TypeError(f"tally must be a personagym.data.tally.Tally, got {type(tally).__name__}")
    if tally.shards and tally.config_hash != config_hash:
        raise ValueError(f"the tally counts shards of another run than the one in {out_dir}")
    if stray := tally.shards - committed:
        raise ValueError(f"the tally counts shards {sorted(stray)[:5]} that {out_dir}'s manifest does not list")
    return tally.shards


def _stats(manifest: Manifest, tally: Tally, categories: list[str],
           attributes: tuple[str, ...] | list[str] = ()) -> dict[str, Any]:
    """The statistics dictionary of a run's manifest and the tally of all its shards."""
    return {
        "config": manifest.config.model_dump(),
        "personagym_version": manifest.personagym_version,
        "code_digest": manifest.code_digest,
        "personas": len(tally.personas),
        "trajectories": len(tally.turns),
        "user_utterances": tally.utterances,
        "turns_per_dialog": _distribution(tally.turns),
        "pkis_per_dialog": _distribution(tally.pkis),
        "pki_kinds": dict(sorted(tally.pki_kinds.items())),
        "pki_certainty": dict(sorted(tally.certainty.items())),
        "category_coverage": {
            "categories": len(categories),
            "covered_by_pkis": sum(1 for c in categories if tally.pki_categories[c]),
            "covered_by_interests": sum(1 for c in categories if tally.interest_categories[c]),
            "pkis": {c: tally.pki_categories[c] for c in categories},
            "interests": {c: tally.interest_categories[c] for c in categories},
        },
        "noise_layers": {layer: tally.noise[layer] for layer in NOISE_LAYERS},
        "preference_dynamics": {
            "sessions_per_dialog": _distribution(tally.sessions),
            "gaps": {label: tally.gaps[label] for label in TIME_GAPS},
            "drifts_per_dialog": _distribution(tally.drifts),
            "life_events_per_dialog": _distribution(tally.life_events),
            "life_events_by_what_changed": dict(sorted(tally.life_event_subjects.items(),
                                                       key=lambda kv: (-kv[1], kv[0]))),
        },
        "vocabulary_size": len(tally.unigrams),
        "distinct_1": _ratio(len(tally.unigrams), tally.unigram_total),
        "distinct_2": _ratio(len(tally.bigrams), tally.bigram_total),
        "total_reward": _distribution(tally.rewards, histogram=False),
        "persona_sampling": [{"sampler": json.loads(config), "trajectories": n}
                             for config, n in sorted(tally.samplers.items(), key=lambda kv: (-kv[1], kv[0]))],
        "persona_population": _population(tally, attributes),
    }


def _population(tally: Tally, attributes: list[str]) -> dict[str, Any]:
    """Per attribute (schema order), the personas stating it and each value's count among them (most common first)."""
    values: dict[str, dict[str, int]] = {}
    for (name, value), n in tally.attribute_values.items():
        values.setdefault(name, {})[value] = n
    order = {name: i for i, name in enumerate(attributes)}
    return {name: {"stated_by": tally.attribute_stated[name],
                   "values": dict(sorted(values.get(name, {}).items(), key=lambda kv: (-kv[1], kv[0])))}
            for name in sorted(tally.attribute_stated, key=lambda a: (order.get(a, len(order)), a))}


@functools.cache
def _attribute_names(env_id: str) -> list[str]:
    """The env's persona attributes in schema order (the card lists the population in it)."""
    env = make_env(env_id)
    try:
        return list(env.unwrapped.schema.attributes)
    finally:
        env.close()


@functools.cache
def _taxonomy_of(env_id: str) -> tuple[Any, frozenset[str]]:
    """The env's taxonomy and the names of its taxonomy-valued attributes (once per process)."""
    env = make_env(env_id)
    try:
        return env.unwrapped.taxonomy, node_valued_attributes(env.unwrapped.schema)
    finally:
        env.close()


def _tally_shards(env_id: str, fmt: Format, shards: list[tuple[str, str]]) -> Tally:
    """The counts of some shards, each checked against its sha256 first (a top-level function: workers run it)."""
    taxonomy, node_valued = _taxonomy_of(env_id)
    tally = Tally()
    for path, sha256 in shards:
        for trajectory in read_shard(path, fmt, sha256):
            tally.add(trajectory, taxonomy, node_valued)
    return tally


def _distribution(values: list[float], histogram: bool = True) -> dict[str, Any]:
    """Mean, median, min, max (and a histogram) of some values; the same keys, None-valued, when there are none."""
    if not values:
        return {"mean": None, "median": None, "min": None, "max": None, **({"histogram": {}} if histogram else {})}
    lo, hi = min(values), max(values)
    out: dict[str, Any] = {"mean": round(statistics.fmean(values), 4),
                           "median": round(float(statistics.median(values)), 4),  # float for counts too: one type
                           "min": round(lo, 4) if isinstance(lo, float) else lo,
                           "max": round(hi, 4) if isinstance(hi, float) else hi}
    if histogram:
        out["histogram"] = {str(k): v for k, v in sorted(Counter(values).items())}
    return out


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


# --------------------------------------------------------------------------- dataset card


def write_card(out_dir: PathLike, *, plots: bool = True, workers: int = 1, tally: Tally | None = None) -> Path:
    """Write ``out_dir/README.md``: a dataset card with the config, statistics and (optionally) plots.

    Plots are PNG files under ``out_dir/card/``; they need matplotlib
    (``pip install 'personagym[datasets]'``, or pass ``plots=False``).  Every file is
    written atomically.  `workers` and `tally` as in `dataset_stats`.  Returns the card's path.
    """
    out = Path(out_dir)
    with writing_in(out, make=False) as locked:
        # no other process writes here now: a card temporary is what a killed card write left (a killed `stats`
        # left hidden `.README.md.HEX.tmp` and `card/.NAME.png.HEX.tmp` files that only `generate --resume` removed)
        if locked:
            remove_stray_temporaries(out, CARD_TEMP_FILE)
        stats = dataset_stats(out, workers=workers, tally=tally)
        images = _draw_plots(out, stats) if plots else []
        card = out / "README.md"
        files = [(card, _card_text(out, stats, [(title, path) for title, path, _ in images]).encode()),
                 *((out / path, png) for _, path, png in images)]
        _replace_together(files)
    return card


def _replace_together(files: list[tuple[Path, bytes]]) -> None:
    """Write every file to a temporary file first, and replace the targets only once all are written.

    The card used to be replaced before its plots were written: a full disk or a
    read-only ``card/`` then left a new card beside missing or old plots, and
    `generate` took that card for a finished dataset.  Now a failure leaves every
    file as it was; the OSError names the file (not its temporary).  The card,
    first in `files`, is also replaced first: should that rename fail, the old
    card keeps its old plots.
    """
    writing: Path | None = None  # the file being written (a full disk's error names no file)
    try:
        with contextlib.ExitStack() as stack:
            for writing, data in reversed(files):  # exits run in reverse: the card is replaced first
                stack.enter_context(atomic_path(writing)).write_bytes(data)
            writing = None
    except OSError as exc:
        failed = Path(os.fspath(exc.filename2 or exc.filename or files[0][0]))
        where = writing or next((t for t, _ in files if failed.parent == t.parent and
                                 temporary_pattern(re.escape(t.name)).match(failed.name)),
                                failed)  # a temporary: the file it was for
        raise OSError(exc.errno, f"cannot write the dataset card at {where} ({exc.strerror or exc}); "
                      "the card and plots that were there are unchanged") from exc


def _draw_plots(out: Path, stats: dict[str, Any]) -> list[tuple[str, str, bytes]]:
    """Bar charts of the distributions, drawn, not written: (title, path relative to `out`, PNG bytes) of each.

    Each chart's axes name the values and what is counted (dialogs, utterances,
    PKIs or interests), so a chart reads without the card's table.
    """
    figure_cls = require_module("matplotlib.figure", "datasets", *_PLOTS).Figure
    coverage = stats["category_coverage"]
    charts = [
        ("Answered turns per dialog (all its sessions)", "turns.png",
         _by_value(stats["turns_per_dialog"]["histogram"]), "answered turns", "dialogs"),
        ("PKIs per dialog", "pkis.png", _by_value(stats["pkis_per_dialog"]["histogram"]), "PKIs", "dialogs"),
        ("Noise layers of user utterances", "noise.png", stats["noise_layers"], "noise layer", "user utterances"),
        ("PKIs naming a taxonomy node, per top-level category", "pki_categories.png", coverage["pkis"],
         _CATEGORY, "PKIs"),
        ("Persona interests (liked or disliked) per top-level category", "interest_categories.png",
         coverage["interests"], _CATEGORY, "persona interests"),
    ]
    dynamics = stats["preference_dynamics"]
    if dynamics["life_events_by_what_changed"]:
        charts.append(("Life events between sessions, by what they changed", "life_events.png",
                       dynamics["life_events_by_what_changed"], _WHAT_CHANGED, "life events"))
    try:
        (out / PLOTS_DIR).mkdir(exist_ok=True)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot make the plot directory {out / PLOTS_DIR} ({exc.strerror or exc})") from exc
    images = []
    for title, name, counts, value_label, count_label in charts:
        fig = figure_cls(figsize=(7, 7) if value_label in _NAMED else (6, 3.5), layout="constrained")
        ax = fig.add_subplot()
        _bar_chart(ax, counts, value_label, count_label)
        ax.set_title(title)
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=100)
        images.append((title, f"{PLOTS_DIR}/{name}", png.getvalue()))
    return images


def _bar_chart(ax: Any, counts: dict[Any, int], value_label: str, count_label: str) -> None:
    """Draw `counts` as bars on `ax`: horizontal, one per name, when `value_label` is in `_NAMED`, else vertical.

    Integer-valued distributions (turns and PKIs per dialog) are drawn on a number
    line, so the gaps between values show.  Counts get integer ticks from 0 on every
    chart, integer values too: also when one value or no count fills the axis,
    where matplotlib would otherwise tick 5.6, 5.7, ... or -0.045 ... 0.045.
    """
    integer_ticks = require_module("matplotlib.ticker", "datasets", *_PLOTS).MaxNLocator
    labels, values = list(counts), list(counts.values())
    if value_label in _NAMED:
        ax.barh(labels[::-1], values[::-1], color="#4c72b0")
        ax.set_ylabel(value_label)
        ax.tick_params(axis="y", labelsize=7)
        count_axis, set_count_limits = ax.xaxis, ax.set_xlim
    else:
        ax.bar(labels, values, color="#4c72b0")  # int labels place the bars on a number line
        if all(isinstance(label, int) for label in labels):
            ax.xaxis.set_major_locator(integer_ticks(integer=True, min_n_ticks=1))
        ax.set_xlabel(value_label)
        count_axis, set_count_limits = ax.yaxis, ax.set_ylim
    count_axis.set_label_text(count_label)
    count_axis.set_major_locator(integer_ticks(integer=True, min_n_ticks=1))
    if not any(values):
        set_count_limits(0, 1)


def _by_value(histogram: dict[str, int]) -> dict[int, int]:
    """An integer-valued histogram keyed by its values again (`_distribution` keys them by string for JSON)."""
    return {int(value): count for value, count in histogram.items()}


def _card_text(out: Path, stats: dict[str, Any], images: list[tuple[str, str]]) -> str:
    config = stats["config"]
    fmt = config["format"]
    coverage = stats["category_coverage"]
    turns, pkis = stats["turns_per_dialog"], stats["pkis_per_dialog"]
    rows = [
        ("personas", stats["personas"]),
        ("trajectories", stats["trajectories"]),
        ("user utterances", stats["user_utterances"]),
        ("answered turns per dialog, all its sessions (mean / median)", _pair(turns)),
        ("PKIs per dialog (mean / median)", _pair(pkis)),
        ("PKI kinds", _inline(stats["pki_kinds"])),
        ("PKI certainty", _inline(stats["pki_certainty"])),
        ("top-level categories covered by PKIs naming a taxonomy node",
         f"{coverage['covered_by_pkis']} of {coverage['categories']}"),
        ("top-level categories covered by persona interests (liked or disliked)",
         f"{coverage['covered_by_interests']} of {coverage['categories']}"),
        ("noise layers of user utterances", _inline(stats["noise_layers"])),
        ("vocabulary size (user utterances as sent, noise included; lowercased \\w+ tokens)",
         stats["vocabulary_size"]),
        ("distinct-1 / distinct-2 (the same tokens: distinct / all unigrams, distinct / all bigrams within an "
         "utterance, over the whole dataset)", f"{stats['distinct_1']} / {stats['distinct_2']}"),
        ("total reward per dialog (mean / median)", _pair(stats["total_reward"])),
        ("persona attribute values drawn (`SamplerConfig.value_weights`)",
         ", ".join(f"{_weights_name(s['sampler'])}: {s['trajectories']} trajectories"
                   for s in stats["persona_sampling"]) or "-"),
    ]
    dynamics = stats["preference_dynamics"]
    if (dynamics["sessions_per_dialog"]["max"] or 0) > 1:  # how preferences evolved between sessions
        rows += [
            ("sessions per dialog (mean / median)", _pair(dynamics["sessions_per_dialog"])),
            ("gaps between sessions", _inline(dynamics["gaps"])),
            ("drifts of an interest per dialog (mean / median)", _pair(dynamics["drifts_per_dialog"])),
            ("life events per dialog (mean / median)", _pair(dynamics["life_events_per_dialog"])),
            ("life events by what they changed", _inline(dynamics["life_events_by_what_changed"])),
        ]
    features = _features_yaml()
    unit = {"jsonl": "line of the JSON-lines", "parquet": "row of the Parquet"}[fmt]
    checked = (f"`personagym.data.load_dataset(personagym.data.shard_paths(DIR))` loads the rows after checking "
               f"each shard against its sha256 in `{MANIFEST}`")
    if features is None:
        loading = (f"Load it with {checked}; that needs `datasets`.  This card was written without `datasets`, so "
                   "its header declares no Features and `datasets.load_dataset(DIR)` would infer the column types "
                   "(which fails on JSON lines): `pip install 'personagym[datasets]'` and run `personagym stats DIR` "
                   "to add them.")
    else:
        loading = ("Load it with `datasets.load_dataset(DIR, split=\"train\")`: the header above declares the "
                   "`datasets` Features of the trajectory schema (`personagym.data.trajectory_features()`), so no "
                   f"column type is inferred.  Also, {checked}; `personagym.data.from_row` turns a row back into a "
                   "`Trajectory`.")
    lines = [
        "---",
        "configs:",
        "- config_name: default",
        f"  data_files: \"shard-*.{fmt}\"",
        "tags:",
        "- personagym",
        "- synthetic",
        "- personalization",
        *([] if features is None else
          yaml.safe_dump({"dataset_info": {"features": features}}, sort_keys=False).splitlines()),
        "---",
        "",
        f"# PersonaGym dataset: {out.resolve().name}",
        "",
        f"{_count(stats['trajectories'], 'simulated dialog')} (episodes, each with all its sessions) of "
        f"{_count(stats['personas'], 'persona')} on `{config['env_id']}` "
        f"with the `{config['policy']}` policy, generated by personagym {stats['personagym_version']}. "
        f"Each {unit} shards is a `personagym.records.Trajectory` with its ground truth (persona, preference "
        "states, PKIs, noise, rewards).",
        "",
        loading,
        "",
        *_sampling_lines(stats["persona_sampling"]),
        "## Statistics",
        "",
        "| statistic | value |",
        "| --- | --- |",
        *(f"| {name} | {value} |" for name, value in rows),
        "",
    ]
    if images:
        lines += ["## Distributions", ""]
        lines += [f"![{title}]({path})\n" for title, path in images]
    lines += _population_lines(stats["persona_population"], stats["personas"])
    lines += [
        "## Generation config",
        "",
        f"Recorded in `{MANIFEST}` with per-shard sha256 checksums and the seeding rule. With personagym "
        f"{stats['personagym_version']}"
        + (f" (code digest `{stats['code_digest']}`: `personagym.data.generate.code_digest()`)"
           if stats.get("code_digest") else "")
        + ", either of these reproduces the shards byte for byte in an empty "
        "directory DIR (with any number of workers"
        + ("" if config.get("backend", "template") == "template" else
           "; in LLM mode, as far as the model's seeded sampling is deterministic on the same model and server")
        + "):",
        "",
        "```python",
        "from personagym.data.generate import generate",
        "",
        _generate_call(config),
        "```",
        "",
        "```sh",
        _generate_command(config),
        "```",
        "",
        *_reproduction_caveat(stats["persona_sampling"], stats["config"]),
    ]
    return "\n".join(lines)


def _weights_name(sampler: dict[str, Any] | None) -> str:
    """The value_weights a trajectory's recorded sampler config says ("uniform (before value_weights)" if none)."""
    weights = (sampler or {}).get("value_weights")
    return "uniform (recorded before value_weights existed)" if weights is None else str(weights)


def _sampling_lines(sampling: list[dict[str, Any]]) -> list[str]:
    """The card's paragraph on how the personas were drawn (a warning first when the shards mix sampler configs)."""
    if not sampling:
        return []
    if len(sampling) > 1:
        parts = "; ".join(f"{s['trajectories']} trajectories with {json.dumps(s['sampler'], sort_keys=True)}"
                          for s in sampling)
        return [f"**Warning: the personas of this dataset were drawn with {len(sampling)} different sampler "
                f"configs** ({parts}), e.g. a run resumed after the sampler changed: its statistics and persona "
                "population describe no single distribution, and no one command reproduces it.", ""]
    weights = (sampling[0]["sampler"] or {}).get("value_weights")
    name = _weights_name(sampling[0]["sampler"])
    return [f"Personas were drawn by the env's persona sampler with value weights `{name}`: "
            f"{_VALUE_WEIGHTS.get(weights, 'see the sampler config below')}.  The sampler config is recorded in "
            "every trajectory's `config.sampler`; the attribute marginals are under Persona population.", ""]


def _population_lines(population: dict[str, Any], personas: int) -> list[str]:
    """The card's persona-population section: per attribute, who states it and its commonest values."""
    if not population:
        return []
    lines = ["## Persona population", "",
             f"The {_count(personas, 'persona')} by attribute (taxonomy-valued favourites are counted under the "
             "interest categories above): the share of personas who state it (a persona is partially observed), "
             "and each value's share of those who do (a multi-valued attribute's values add up to more than 100%; "
             f"`(none)` is one stated empty).  The {_POPULATION_VALUES} commonest values are listed; "
             "`personagym stats DIR --json` gives every count.", "",
             "| attribute | stated by | values (share of the personas stating it) |", "| --- | --- | --- |"]
    for name, counts in population.items():
        stated = counts["stated_by"]
        values = list(counts["values"].items())
        shown = ", ".join(f"{v} {_percent(n, stated)}" for v, n in values[:_POPULATION_VALUES])
        more = len(values) - _POPULATION_VALUES
        lines.append(f"| {name} | {_percent(stated, personas)} | {shown}{f', +{more} more' if more > 0 else ''} |")
    return [*lines, ""]


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _reproduction_caveat(sampling: list[dict[str, Any]], config: dict[str, Any]) -> list[str]:
    """A warning when the recorded sampler config is not the one the generation config makes the env use (the
    env's default with the config's `value_weights`)."""
    default = SamplerConfig(value_weights=config.get("value_weights", "population")).model_dump()
    if not sampling or (len(sampling) == 1 and sampling[0]["sampler"] == default):
        return []
    recorded = [s["sampler"] or {} for s in sampling]
    differ = sorted({k for r in recorded for k in set(r) | set(default) if r.get(k) != default.get(k)})
    return [f"**These do not reproduce this dataset's personas**: `generate` draws them with the env's default "
            f"sampler config (and the config's value weights), and the trajectories record another (differing in "
            f"{', '.join(differ)}).", ""]


def _features_yaml() -> list[Any] | None:
    """The trajectory Features as a card's ``dataset_info: features:`` list, or None without `datasets`.

    The list is made by `datasets` itself (`DatasetInfosDict.to_dataset_card_data`,
    what ``push_to_hub`` writes), so `datasets` and the Hub read back exactly
    `trajectory_features()`.  `datasets` is optional: a card written without it
    still loads through `personagym.data`, and its text says how to add the Features.
    """
    try:
        features = trajectory_features()
    except ImportError:
        return None
    info = importlib.import_module("datasets.info")
    card_data: dict[str, Any] = {}
    info.DatasetInfosDict({"default": info.DatasetInfo(features=features)}).to_dataset_card_data(card_data)
    return card_data["dataset_info"]["features"]


def _generate_call(config: dict[str, Any]) -> str:
    """The `generate` call that reproduces a run of `config` in the directory "DIR" (None fields: the defaults)."""
    arguments = ", ".join(f"{_PARAMETERS.get(name, name)}={value!r}" for name, value in _set_fields(config))
    return f"generate('DIR', {arguments})"


def _generate_command(config: dict[str, Any]) -> str:
    """The `personagym generate` command that reproduces a run of `config` in the directory DIR."""
    options = (f"{_OPTIONS.get(name, '--' + name.replace('_', '-'))} {shlex.quote(str(value))}"
               for name, value in _set_fields(config))
    return " ".join(["personagym generate --out DIR", *options])


def _set_fields(config: dict[str, Any]) -> list[tuple[str, Any]]:
    """The config's fields that are not None: None is the default of `generate` and the CLI, and has no option value."""
    return [(name, value) for name, value in config.items() if value is not None]


def _pair(distribution: dict[str, Any]) -> str:
    """A distribution's "mean / median" for the card's table; "-" when there were no values (not Python's None)."""
    if distribution["mean"] is None:
        return "-"
    return f"{distribution['mean']} / {distribution['median']}"


def _count(n: int, noun: str) -> str:
    """'1 persona', '2 personas': the card's prose says "1 simulated dialog of 1 persona", not "1 ... personas"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _inline(counts: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in counts.items()) or "-"
