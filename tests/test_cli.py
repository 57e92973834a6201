"""The `personagym` command, run as a real subprocess."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REF = Path(__file__).resolve().parents[2] / "shared" / "reference" / "ppopt"


def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "personagym.cli", *args], capture_output=True,
                          text=True, timeout=300)
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_taxonomy_stats_json() -> None:
    stats = json.loads(run("taxonomy", "stats", "--json").stdout)
    assert stats["nodes"] >= 1800 and stats["top_level_count"] >= 25
    assert sum(stats["depth_histogram"].values()) == stats["nodes"]


def test_personas_schema_json() -> None:
    data = json.loads(run("personas", "schema", "--json").stdout)
    assert data["attribute_count"] == 130
    assert next(t["id"] for t in data["tiers"]) == "demographics" and len(data["tiers"]) == 7
    n = sum(len(c["attributes"]) for t in data["tiers"] for c in t["categories"])
    assert n == 130


def test_personas_sample_writes_jsonl(tmp_path: Path) -> None:
    out = tmp_path / "p.jsonl"
    run("personas", "sample", "-n", "25", "--seed", "3", "--out", str(out))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 25 and len({r["persona_id"] for r in rows}) == 25
    again = tmp_path / "q.jsonl"
    run("personas", "sample", "-n", "25", "--seed", "3", "--out", str(again))
    assert again.read_text() == out.read_text()


def test_simulate_json_and_text() -> None:
    lines = run("simulate", "-n", "20", "--seed", "1", "--json").stdout.splitlines()
    assert len(lines) == 20
    row = json.loads(lines[0])
    assert {"persona_id", "text", "clean_text", "noise", "pkis", "intent"} <= set(row)
    text = run("simulate", "-n", "5", "--seed", "1").stdout
    assert "task_request" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("simulate", "--noise-rate", "1.5"), "noise rate must be in [0, 1], got 1.5"),
        (("personas", "sample", "--availability", "2"), "availability"),
        (("personas", "import", "x.json", "--from", "csv"), "unknown source 'csv'"),
        (("personas", "import", "x.json", "--from", "PPOPT"), "unknown source 'PPOPT' (did you mean 'ppopt'?)"),
        (("personas", "sample", "--min-hamming", "500"), "min_hamming=500 exceeds the schema's 130 attributes"),
        (("personas", "sample", "-n", "100000", "--min-hamming", "130"),
         "error: --min-hamming: persona 2 of 100,000 differs from an earlier one in only "),
    ],
)
def test_bad_input_is_one_clear_line(args: tuple[str, ...], message: str) -> None:
    proc = run(*args, ok=False)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_out_into_missing_directory_fails_cleanly(tmp_path: Path) -> None:
    proc = run("personas", "sample", "-n", "2", "--out", str(tmp_path / "nope" / "p.jsonl"), ok=False)
    assert proc.returncode == 2 and "does not exist" in proc.stderr


@pytest.mark.skipif(not REF.exists(), reason="../shared/reference/ppopt not beside the repo")
def test_personas_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"features": {"tone_pref": "wram"}}')
    out = tmp_path / "imported.jsonl"
    files = [*sorted(str(p) for p in REF.glob("persona_*.json")), str(REF / "persona.yaml"), str(bad)]
    proc = run("personas", "import", *files, "--from", "ppopt", "--out", str(out), ok=False)
    assert proc.returncode == 1
    assert "bad.json" in proc.stderr and "wram" in proc.stderr
    assert "all 33 dimensions mapped" in proc.stderr
    assert len(out.read_text().splitlines()) == 3
    before = out.read_bytes()
    proc = run("personas", "import", str(bad), "--out", str(out), ok=False)
    assert proc.returncode == 1 and "wram" in proc.stderr
    assert out.read_bytes() == before  # nothing imported: the earlier file is not replaced by an empty one


def test_rollout_prints_summary_and_writes_both_formats(tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    proc = run("rollout", "--env", "PersonaGym/ChatClean-v0", "--policy", "tracker", "--episodes", "4",
               "--seed", "5", "--out", str(out))
    assert "reward" in proc.stdout and "profile" in proc.stdout and "95% CI" in proc.stdout
    lines = out.read_text().splitlines()
    assert len(lines) == 4 and json.loads(lines[0])["policy"] == "tracker"
    parquet = tmp_path / "t.parquet"
    summary = json.loads(run("rollout", "--episodes", "3", "--format", "parquet", "--out", str(parquet),
                             "--json").stdout)
    assert summary["episodes"] == 3 and set(summary["components"]) == {
        "preference", "constraint", "style", "profile", "efficiency"}
    # figures, not binary noise: every float of the summary has at most 6 significant digits
    floats = [summary["reward"]["mean"], summary["reward"]["ci95"], summary["turns"]["mean"],
              *(v for c in summary["components"].values() for v in c.values())]
    assert all(len(repr(abs(x)).replace(".", "").lstrip("0")) <= 6 for x in floats)
    assert parquet.stat().st_size > 0


def test_rollout_max_turns_caps_the_answers_of_every_session(tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    run("rollout", "--env", "PersonaGym/LongTerm-v0", "--policy", "tracker", "--episodes", "3", "--max-turns", "2",
        "--out", str(out), "--json")
    records = [json.loads(line) for line in out.read_text().splitlines()]
    sessions = [[t["session"] for t in r["turns"]] for r in records]
    assert all(max(s.count(i) for i in set(s)) <= 2 for s in sessions)
    assert {json.loads(r["config"])["max_turns"] for r in records} == {2}
    assert max(len(s) for s in sessions) > 4  # four sessions of up to two answers, not one session cut short
    proc = run("rollout", "--max-turns", "0", ok=False)
    assert proc.returncode == 2 and "'--max-turns': Input should be greater than or equal to 1" in proc.stderr


def test_rollout_is_reproducible() -> None:
    a = json.loads(run("rollout", "--episodes", "3", "--seed", "9", "--json").stdout)
    b = json.loads(run("rollout", "--episodes", "3", "--seed", "9", "--json").stdout)
    assert a == b


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("rollout", "--env", "PersonaGym/Chat-v1"), "--env: unknown env id 'PersonaGym/Chat-v1' (did you mean 'Per"),
        (("rollout", "--policy", "trakcer"), "--policy: unknown policy 'trakcer' (did you mean 'tracker'"),
        (("compare", "--policy", "tracker", "--policy", "generik"), "--policy: unknown policy 'generik' (did you"),
        (("pairs", "--out", "p.jsonl", "--env", "Chat-v0"), "--env: unknown env id 'Chat-v0' (did you mean 'Pers"),
        (("generate", "--out", "ds", "--policy", "orakle"), "--policy: unknown policy 'orakle' (did you mean"),
        (("personas", "sample", "--value-weights", "unifrm"), "--value-weights: unknown value 'unifrm' (did you mea"),
        (("rollout", "--format", "csv", "--out", "t.csv"), "unknown format 'csv'"),
        (("rollout", "--format", "jsonn", "--out", "t.jsonl"), "unknown format 'jsonn' (did you mean 'jsonl'?)"),
        (("rollout", "--format", "parquet"), "--format parquet: nothing is written without --out"),
        (("rollout", "--format", "csv"), "--format: unknown format 'csv'; expected jsonl or parquet"),
        (("rollout", "--env", "Chat-v0"), "did you mean 'PersonaGym/Chat-v0'"),
        (("rollout", "--env", "CartPole-v1"), "--env: not a PersonaGym env id 'CartPole-v1'"),
        (("rollout", "--env", "PersonaGym/Structured-v0", "--policy", "tracker"),
         "policy 'tracker' writes text, but PersonaGym/Structured-v0 takes Discrete("),
        # the library's check_backend_args, in the command line's words
        (("rollout", "--backend", "openai"), "--backend 'openai' needs --model (the served model name)"),
        (("rollout", "--backend", "vllm"), "--backend 'vllm' needs --model (a Hugging Face model folder)"),
        (("rollout", "--backend", "opnai"), "--backend: unknown kind 'opnai' (did you mean 'openai'?); expected"),
        (("rollout", "--model", "m"), "--backend 'template' uses no LLM and takes no options; got {'--model': 'm'}: "
                                      "leave them out, or choose an LLM with --backend local, vllm or openai"),
        (("rollout", "--out", "t.parquet", "--format", "jsonl"), "--format jsonl does not match --out 't.parquet'"),
        (("rollout", "--seed", str(2**63 - 1)), "(episode seeds seed..seed+episodes-1 are stored as int64)"),
        (("rollout", "--backend", "local", "--base-url", "http://127.0.0.1:9/v1"),
         "--backend 'local' runs the model in-process and takes no --base-url (only 'openai' does)"),
        (("rollout", "--policy", "json:dumps"), "cannot build policy 'json:dumps' with env=, seed=: missing"),
        (("rollout", "--policy", "json:JSONDecodr"), "has no attribute 'JSONDecodr' (did you mean 'JSONDecoder'?)"),
        (("rollout", "--policy", "json.JSONDecoder"), "unknown policy 'json.JSONDecoder' (did you mean 'json:JSONDec"),
        (("simulate", "--noise-rate", "nan"), "rate: Input should be a finite number (got nan)"),
        (("rollout", "--show", "--json"), "--show and --json both print to standard output"),
    ],
)
def test_rollout_bad_input(args: tuple[str, ...], message: str) -> None:
    proc = run(*args, ok=False)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: "), proc.stderr  # no blank line left by a progress bar


def test_python_dash_m_personagym_is_the_command() -> None:
    """`python -m personagym` said "'personagym' is a package and cannot be directly executed": the way to run
    the command from a checkout whose console script is missing or belongs to another copy."""
    proc = subprocess.run([sys.executable, "-m", "personagym", "envs", "--json"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and "PersonaGym/Chat-v0" in json.loads(proc.stdout), proc.stderr
    bad = subprocess.run([sys.executable, "-m", "personagym", "rollout", "--episodes", "0"], capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error: Invalid value for '--episodes'"), bad.stderr


def test_an_llm_backend_without_its_packages_fails_before_generate_makes_out(tmp_path: Path) -> None:
    """Without the llm extra, `--backend openai` failed at the first request with "No module named 'tenacity'",
    after generate had made --out and its manifest."""
    out = tmp_path / "ds"
    code = ("import runpy, sys; sys.modules['tenacity'] = None; "
            f"sys.argv = ['personagym', 'generate', '--out', {str(out)!r}, '--personas', '1', '--backend', 'openai', "
            "'--model', 'm', '--base-url', 'http://127.0.0.1:9/v1']; runpy.run_module('personagym.cli', "
            "run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert ("error: --backend 'openai' needs the 'tenacity' package, which is not installed: "
            "pip install 'personagym[llm]'") in proc.stderr
    assert not out.exists()


def test_parquet_without_pyarrow_fails_before_any_episode(tmp_path: Path) -> None:
    """pyarrow is an extra: without it, `rollout --out x.parquet` ran every episode, then ended in an
    80-line traceback."""
    code = ("import runpy, sys; sys.modules['pyarrow'] = None; "
            f"sys.argv = ['personagym', 'rollout', '--episodes', '2', '--out', {str(tmp_path / 'x.parquet')!r}]; "
            "runpy.run_module('personagym.cli', run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert (f"error: --out {str(tmp_path / 'x.parquet')!r}: Parquet needs the 'pyarrow' package, which is not "
            "installed: pip install 'personagym[parquet]', or write .jsonl") in proc.stderr
    assert "episode" not in proc.stderr and not (tmp_path / "x.parquet").exists()


@pytest.mark.parametrize("hidden", [True, False])
def test_a_card_without_matplotlib_says_it_has_no_plots(tmp_path: Path, hidden: bool) -> None:
    """Without the datasets extra, `stats` wrote a card without its plots and said nothing."""
    out = tmp_path / "ds"
    run("generate", "--out", str(out), "--personas", "2", "--format", "jsonl")
    hide = "sys.modules['matplotlib'] = None; " if hidden else ""
    code = (f"import runpy, sys; {hide}sys.argv = ['personagym', 'stats', {str(out)!r}]; "
            "runpy.run_module('personagym.cli', run_name='__main__')")
    shutil.rmtree(out / "card")  # generate drew the plots: only stats may draw them now
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    warned = "warning: the dataset card is written without its plots: matplotlib is not installed (pip install " \
             "'personagym[datasets]')" in proc.stderr
    assert warned is hidden and (out / "card").exists() is not hidden, proc.stderr


def test_rollout_show_prints_each_conversation_then_the_summary(tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    proc = run("rollout", "--policy", "tracker", "--episodes", "2", "--seed", "3", "--show", "--out", str(out))
    records = [json.loads(line) for line in out.read_text().splitlines()]
    text = proc.stdout
    for i, record in enumerate(records):  # each episode's messages, then its footer
        footer = f"── episode {i} (seed {3 + i}): reward {record['total_reward']:+.3f}, {len(record['turns'])} turns ──"
        assert footer in text, text
        episode, text = text.split(footer, 1)
        for turn in record["turns"]:
            assert f"user: {turn['user']['text']}" in episode and f"assistant: {turn['assistant']}" in episode
    assert "95% CI" in text and "user: " not in text  # the summary table comes last


def test_unwritable_out_fails_before_any_episode(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    for args in (("rollout", "--episodes", "2"), ("personas", "sample", "-n", "2")):
        proc = run(*args, "--out", str(tmp_path / "dir"), ok=False)
        assert proc.returncode == 2 and "is a directory; expected a file path" in proc.stderr
        assert "Traceback" not in proc.stderr
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        probe = locked / "probe"
        try:
            probe.touch()  # root writes in a read-only directory: nothing to check then
        except PermissionError:
            proc = run("rollout", "--episodes", "2", "--out", str(locked / "t.jsonl"), ok=False)
            assert proc.returncode == 2 and "--out: cannot write in directory" in proc.stderr
        else:
            probe.unlink()
    finally:
        locked.chmod(0o700)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "locked"]  # no probe or temporary file left


def test_rollout_format_follows_a_parquet_out_suffix(tmp_path: Path) -> None:
    out = tmp_path / "t.parquet"
    run("rollout", "--episodes", "2", "--out", str(out))
    assert out.read_bytes()[:4] == b"PAR1"
    # the suffix in any case: t.PARQUET got JSON lines, and `--format parquet --out t.JSONL` a Parquet file
    upper = tmp_path / "t.PARQUET"
    run("rollout", "--episodes", "1", "--out", str(upper))
    assert upper.read_bytes()[:4] == b"PAR1"
    proc = run("rollout", "--episodes", "1", "--format", "parquet", "--out", str(tmp_path / "t.JSONL"), ok=False)
    assert proc.returncode == 2 and "--format parquet does not match --out" in proc.stderr
    assert not (tmp_path / "t.JSONL").exists()


def test_envs_lists_every_id() -> None:
    ids = list(json.loads(run("envs", "--json").stdout))
    assert {"PersonaGym/Chat-v0", "PersonaGym/ChatClean-v0", "PersonaGym/ChatNoisy-v0",
            "PersonaGym/LongTerm-v0"} <= set(ids)


def test_generate_stats_export_round(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    proc = run("generate", "--out", str(out), "--personas", "6", "--episodes-per-persona", "2", "--shard-size", "3",
               "--format", "jsonl", "--seed", "4")
    assert "wrote 12 trajectories in 2 shards" in proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["trajectories"] == 12 and (out / "README.md").exists()
    again = run("generate", "--out", str(out), "--personas", "6", "--episodes-per-persona", "2", "--shard-size",
                "3", "--format", "jsonl", "--seed", "4", "--resume")
    assert again.returncode == 0 and json.loads((out / "manifest.json").read_text())["shards"] == manifest["shards"]
    # it said "wrote 12 trajectories", having written none
    assert "nothing to generate: " in again.stderr and "already held all 12 trajectories (2 shards)" in \
        again.stderr.replace("\n", " ")
    # a damaged shard is redone, and said so: it said "nothing to generate" when counted before the check
    first = out / manifest["shards"][0]["file"]
    first.write_bytes(first.read_bytes() + b"x")
    (out / "README.md").unlink()
    repaired = run("generate", "--out", str(out), "--personas", "6", "--episodes-per-persona", "2", "--shard-size",
                   "3", "--format", "jsonl", "--seed", "4", "--resume")
    assert "wrote 12 trajectories in 2 shards" in repaired.stderr, repaired.stderr
    assert json.loads((out / "manifest.json").read_text())["shards"] == manifest["shards"]
    twice = run("generate", "--out", str(out), "--personas", "6", "--episodes-per-persona", "2", "--shard-size",
                "3", "--format", "jsonl", "--seed", "4", ok=False)  # it said "only the card is missing"
    assert "holds a complete dataset (2 shards and the card)" in twice.stderr, twice.stderr
    assert "pass --resume" not in twice.stderr  # and also "pass --resume to continue" it, with nothing to resume
    other = run("generate", "--out", str(out), "--personas", "6", "--episodes-per-persona", "2", "--shard-size",
                "2", "--format", "parquet", "--seed", "4", "--resume", ok=False)  # named as options, not fields
    assert "(--shard-size=3 there, 2 now, --format='jsonl' there, 'parquet' now)" in other.stderr, other.stderr
    stats = json.loads(run("stats", str(out), "--json").stdout)
    assert stats["trajectories"] == 12 and stats["personas"] == 6
    chat = tmp_path / "chat.jsonl"
    run("export", str(out), "--to", "chat", "--out", str(chat))
    rows = [json.loads(line) for line in chat.read_text().splitlines()]
    assert len(rows) == 12 and rows[0]["messages"][0]["role"] == "user"
    recall = tmp_path / "recall.jsonl"
    run("export", str(out), "--to", "recall", "--out", str(recall))
    questions = [json.loads(line) for line in recall.read_text().splitlines()]
    assert questions and all(q["options"][q["answer"]] == q["answer_text"] for q in questions)
    # a dataset without a question is an error that leaves the file there (it wrote 0 rows over it)
    quiet = tmp_path / "quiet"
    run("generate", "--out", str(quiet), "--personas", "1", "--seed", "1", "--policy", "random", "--format", "jsonl")
    proc = run("export", str(quiet), "--to", "recall", "--out", str(recall), ok=False)
    assert proc.returncode == 2 and "no recall questions" in proc.stderr and "nothing written" in proc.stderr
    assert [json.loads(line) for line in recall.read_text().splitlines()] == questions
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    for args, message in [
        (("--to", "chat", "--out", str(out / "manifest.json")), "would overwrite the input"),
        (("--to", "chat", "--out", str(out / "chat.jsonl")), "would overwrite the input"),
        ((str(out), "--to", "chat", "--out", str(chat)), "--to chat reads one generated directory, got 2"),
        # a directory was told to be named .jsonl, as if its suffix were all that was wrong
        (("--to", "chat", "--out", str(tmp_path)), f"--out: {str(tmp_path)!r} is a directory; expected a file path"),
    ]:
        proc = run("export", str(out), *args, ok=False)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before  # the dataset is untouched
    tied = run("export", str(out), str(out), "--to", "pairs", "--out", str(tmp_path / "pairs.jsonl"), ok=False)
    assert tied.returncode == 2 and "error: no pairs" in tied.stderr and "nothing written" in tied.stderr
    assert not (tmp_path / "pairs.jsonl").exists()  # an empty file would not load with datasets


def test_typer_errors_are_one_line_too() -> None:
    for args, message in [(("--episodes", "0"), "Invalid value for '--episodes': Input should be greater than"),
                          (("--bogus",), "No such option: --bogus")]:
        proc = run("rollout", *args, ok=False)
        assert proc.returncode == 2 and proc.stderr.startswith(f"error: {message}"), proc.stderr
        assert proc.stderr.count("\n") == 1 and "╭" not in proc.stderr


def test_a_write_that_fails_is_one_line_naming_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import errno

    import typer

    from personagym.cli import write_out

    def full_disk() -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(typer.Exit) as exit_info:
        write_out(tmp_path / "t.jsonl", full_disk, "row")
    assert exit_info.value.exit_code == 2
    assert "--out '" + str(tmp_path / "t.jsonl") + "': cannot write it (No space left on device)" in \
        capsys.readouterr().err.replace("\n", "")

    def unreadable_input() -> int:
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "ds" / "shard-00000.jsonl"))

    with pytest.raises(typer.Exit):
        write_out(tmp_path / "t.jsonl", unreadable_input, "row")
    err = capsys.readouterr().err.replace("\n", "")
    assert "Permission denied" in err and "--out" not in err  # an input it could not read is not blamed on --out


def test_export_of_a_directory_that_is_not_a_dataset(tmp_path: Path) -> None:
    """A missing path or a file was "<path>/manifest.json not found"; an empty directory still is."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "t.jsonl").write_text("{}\n")
    for source, message in (("empty", "empty/manifest.json not found: "), ("missing", "missing does not exist; "),
                            ("t.jsonl", "t.jsonl is a file, not a generation directory")):
        proc = run("export", str(tmp_path / source), "--to", "chat", "--out", str(tmp_path / "c.jsonl"), ok=False)
        assert proc.returncode == 2 and message in proc.stderr and "--out" not in proc.stderr, proc.stderr
        proc = run("stats", str(tmp_path / source), ok=False)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("generate", "--out", "{tmp}/x", "--policy", "orcle"), "did you mean 'oracle'"),
        (("generate", "--out", "{tmp}/x", "--executor", "rey"), "did you mean 'ray'"),
        # named as the option (it said "env 'PersonaGym/Structured-v0' has no persona sampler")
        (("generate", "--out", "{tmp}/x", "--env", "PersonaGym/Structured-v0"),
         "error: --env 'PersonaGym/Structured-v0' has no persona sampler (it is not a text chat env); generate "
         "needs one"),
        (("generate", "--out", "{tmp}/x", "--format", "parqet"), "unknown format 'parqet' (did you mean 'parquet'?)"),
        # it failed in the worker after --out and its manifest were made, advising a --resume that refused the fix
        (("generate", "--out", "{tmp}/x", "--backend", "openai", "--model", "m", "--base-url", "notaurl"),
         "error: --base-url must be an http(s) URL such as 'http://127.0.0.1:8000/v1', the API root of an "
         "OpenAI-compatible server; got 'notaurl'"),
        (("export", "{tmp}", "--to", "chatt", "--out", "{tmp}/c.jsonl"), "did you mean 'chat'"),
        # a .parquet file of JSON lines: exit 0, then Parquet readers failed on its "magic bytes"
        (("export", "{tmp}/ds", "--to", "chat", "--out", "{tmp}/c.parquet"), "writes JSON lines; name the file .jsonl"),
        (("import", "{tmp}/a.json", "--out", "{tmp}/c.parquet"), "writes JSON lines; name the file .jsonl"),
        (("export", "{tmp}", "--to", "chat", "--by", "sesion", "--out", "{tmp}/c.jsonl"), "did you mean 'session'"),
        (("export", "{tmp}", "--to", "ppopt", "--by", "episode", "--out", "{tmp}/c.jsonl"),
         "--by is the chat export's option; --to ppopt has none"),
        # the input named before --out is checked against it (it said --out would overwrite the input '/tmp')
        (("export", "{tmp}", "--to", "chat", "--out", "{tmp}/c.jsonl"), "is not a generation directory"),
        # accepted: a process per worker, up to one per shard
        (("generate", "--out", "{tmp}/x", "--workers", "100000"),
         "error: --workers: 100,000 worker processes are too many here; expected 1 to "),
        (("stats", "{tmp}", "--workers", "100000"), "error: --workers: 100,000 worker processes are too many here"),
        # accepted, a manifest written, then the first shard ran until killed
        (("generate", "--out", "{tmp}/x", "--episodes-per-persona", "1000000000000"),
         "error: invalid generation config: --personas=100 x --episodes-per-persona=1000000000000 makes "
         "100,000,000,000,000 trajectories; expected at most 1,000,000,000 (fewer --personas or "
         "--episodes-per-persona)"),
        # named as the field, max_turns
        (("generate", "--out", "{tmp}/x", "--max-turns", str(10**23)), "error: --max-turns must be a positive int"),
    ],
)
def test_generate_and_export_bad_input(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    proc = run(*(a.format(tmp=tmp_path) for a in args), ok=False)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.skipif(not REF.exists(), reason="../shared/reference/ppopt not beside the repo")
def test_import_ppopt_conversations(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"full_conversation": [{"role": "assistant", "content": "hi"}], "persona_features": {}}')
    out = tmp_path / "replayed.jsonl"
    persona_file = next(REF.glob("persona_*.json"))
    files = [*sorted(str(p) for p in REF.glob("interaction_*.json")), str(bad), str(persona_file)]
    proc = run("import", *files, "--from", "ppopt", "--out", str(out), ok=False)
    assert proc.returncode == 1
    assert "broken.json" in proc.stderr and "full_conversation[0]: expected a user message" in proc.stderr
    assert "a PPOpt persona file: import it with `personagym personas import`" in proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 3
    for row, path in zip(rows, sorted(REF.glob("interaction_*.json")), strict=True):
        doc = json.loads(path.read_text())
        users = [m for m in doc["full_conversation"] if m["role"] == "user"]
        assert [t["user"]["text"] for t in row["turns"]] == [m["content"] for m in users[: len(row["turns"])]]
        assert row["persona"]["source"] == "ppopt" and row["env_id"] == "ppopt/import"


def test_a_ray_address_where_nothing_listens_fails_fast(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    proc = run("generate", "--out", str(tmp_path / "g"), "--personas", "2", "--executor", "ray",
               "--ray-address", "127.0.0.1:1", ok=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "cannot connect to the Ray cluster at '127.0.0.1:1': nothing answers at 127.0.0.1:1" in proc.stderr
    assert not (tmp_path / "g" / "manifest.json").exists()


def test_an_llm_run_where_every_request_fails_exits_1() -> None:
    # port 9 (discard) has no server here: every request fails, every turn falls back to its template words
    proc = run("simulate", "-n", "2", "--backend", "openai", "--model", "m", "--base-url", "http://127.0.0.1:9/v1",
               "--json", ok=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "no user turn kept the LLM's words: all 2 user turns fell back to the template words" in proc.stderr
    assert [json.loads(line)["rendered_by"] for line in proc.stdout.splitlines()] == ["template_fallback"] * 2


def _help(command: str) -> str:
    """A command's help text, its boxes and line wrapping undone."""
    out = subprocess.run([sys.executable, "-m", "personagym.cli", command, "--help"], capture_output=True,
                         text=True, timeout=300, env={**os.environ, "COLUMNS": "250"}).stdout
    return " ".join(out.replace("│", " ").split())


def test_help_shows_extras_in_brackets() -> None:
    # the help is rich markup: an unescaped "[ray]" would vanish from the text
    assert "personagym[ray]" in _help("generate")


@pytest.mark.parametrize("group", [(), ("taxonomy",), ("personas",), ("models",)])
def test_a_group_given_no_command_prints_its_help_once(group: tuple[str, ...]) -> None:
    # with Typer 0.29 each printed "Usage: ..." twice: its rich help prints itself while making the error
    proc = run(*group, ok=False)
    assert proc.returncode == 2 and proc.stdout.count("Usage:") == 1, proc.stdout


def test_a_flag_shows_no_value_in_the_help() -> None:
    # Typer wrote "--json <bool>", which reads as if the flag took a value ("--json true" is an error)
    for command in ("rollout", "generate", "stats", "envs", "compare"):
        text = _help(command)
        flags = re.findall(r"(--(?:json|show|judge|resume|force|help)) (\S+)", text)
        assert flags and all(value != "<bool>" for _, value in flags), (command, flags)
        assert "<bool>" not in text, command  # --help too, which Typer makes


def test_backend_help_names_only_what_the_command_has() -> None:
    """simulate, compare and generate have no --judge (and simulate no policy): their --backend help said
    "the llm policies and --judge use it too"."""
    helps = {command: _help(command) for command in ("simulate", "compare", "generate", "rollout")}
    assert all("It writes the user's words" in text for text in helps.values())
    assert [command for command, text in helps.items() if "--judge use it too" in text] == ["rollout"]
    assert "llm policies" not in helps["simulate"] and "the llm policies use it too" in helps["compare"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("simulate", "--noise-rate", "1.5"), "error: --noise-rate: noise rate must be in [0, 1], got 1.5\n"),
        (("simulate", "--noise-rate", "nan"), "error: --noise-rate: Input should be a finite number (got nan)\n"),
        (("personas", "sample", "--availability", "2"),
         "error: --availability: Input should be less than or equal to 1 (got 2.0)\n"),
        (("personas", "sample", "--min-hamming", "-1"),
         "error: --min-hamming: Input should be greater than or equal to 0 (got -1)\n"),
        # it said "dtype: unknown dtype", the name of prepare_model's argument
        (("models", "prepare", "--dtype", "float16", "--home", "/nonexistent/models"),
         "error: --dtype: unknown dtype 'float16' (did you mean 'bfloat16'?); expected one of bfloat16, float32\n"),
    ],
)
def test_a_bad_config_option_is_named_as_typed(args: tuple[str, ...], message: str) -> None:
    """The config field behind an option ("rate") is reported by the option's name ("--noise-rate")."""
    proc = run(*args, ok=False)
    assert proc.returncode == 2 and proc.stderr == message


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("simulate", "-n", "0"), "Invalid value for '-n' / '--turns': Input should be greater than or equal to 1 "
                                  "(got '0')"),
        (("personas", "sample", "-n", "0"), "Invalid value for '-n' / '--count': Input should be greater than or "
                                            "equal to 1 (got '0')"),
        (("personas", "sample", "--seed", "-3"), "Invalid value for '--seed': Input should be greater than or equal "
                                                 "to 0 (got '-3')"),
        (("simulate", "--noise-rate", "lots"), "Invalid value for '--noise-rate': Input should be a valid number, "
                                               "unable to parse string as a number (got 'lots')"),
    ],
)
def test_an_option_of_the_wrong_type_or_range_quotes_the_value(args: tuple[str, ...], message: str) -> None:
    proc = run(*args, ok=False)
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: {message} (see `")
    assert proc.stderr.count("\n") == 1


@pytest.mark.skipif(not REF.exists(), reason="../shared/reference/ppopt not beside the repo")
def test_personas_import_reads_a_file_given_twice_once(tmp_path: Path) -> None:
    persona = sorted(REF.glob("persona_*.json"))[0]
    link = tmp_path / "same.json"
    link.symlink_to(persona)
    out = tmp_path / "p.jsonl"
    proc = run("personas", "import", str(persona), str(persona), str(link), "--out", str(out))
    assert len(out.read_text().splitlines()) == 1
    assert f"warning: {persona} is given more than once; it is imported once" in proc.stderr.replace("\n", "")
    assert f"warning: {link} is given more than once (as '{persona}'); it is imported once" in \
        proc.stderr.replace("\n", "")
    assert sum(line.startswith("imported ") for line in proc.stderr.splitlines()) == 1


@pytest.mark.skipif(not REF.exists(), reason="../shared/reference/ppopt not beside the repo")
def test_import_reads_a_conversation_file_given_twice_once(tmp_path: Path) -> None:
    conversation = sorted(REF.glob("interaction_*.json"))[0]
    out = tmp_path / "t.jsonl"
    proc = run("import", str(conversation), str(conversation), "--out", str(out))
    assert len(out.read_text().splitlines()) == 1 and "is given more than once" in proc.stderr


@pytest.mark.skipif(not REF.exists(), reason="../shared/reference/ppopt not beside the repo")
def test_import_refuses_a_second_file_with_the_same_sample_id(tmp_path: Path) -> None:
    """Two files of one conversation made two records with one trajectory id, without a word; re-importing over
    an earlier --out says that file was replaced."""
    conversation = sorted(REF.glob("interaction_*.json"))[0]
    copy = tmp_path / "copy.json"
    copy.write_text(conversation.read_text())
    out = tmp_path / "t.jsonl"
    out.write_text("earlier\n")
    proc = run("import", str(conversation), str(copy), "--out", str(out), ok=False)
    assert proc.returncode == 1 and len(out.read_text().splitlines()) == 1
    assert f"failed {copy}: sample_id" in proc.stderr.replace("\n", "") and "expected one file per conversation" in \
        proc.stderr.replace("\n", "")
    assert "it replaced the file that was there" in proc.stderr.replace("\n", "")


@pytest.mark.skipif(not REF.exists(), reason="../shared/reference/ppopt not beside the repo")
def test_personas_import_of_only_a_bank_says_out_is_not_written(tmp_path: Path) -> None:
    out = tmp_path / "p.jsonl"
    out.write_text("kept\n")
    proc = run("personas", "import", str(REF / "persona.yaml"), "--out", str(out))
    assert "no personas to write" in proc.stderr and out.read_text() == "kept\n"


def test_compare_runs_the_policies_on_the_same_episodes() -> None:
    result = json.loads(run("compare", "--policy", "generic", "--policy", "random", "--episodes", "4", "--json").stdout)
    assert result["baseline"] == "generic" and list(result["policies"]) == ["generic", "random"]
    random, generic = result["policies"]["random"], result["policies"]["generic"]
    assert random["difference"]["mean"] == pytest.approx(random["reward"]["mean"] - generic["reward"]["mean"], rel=1e-5)
    table = run("compare", "--policy", "generic", "--policy", "tracker", "--episodes", "3").stdout
    assert "Δ reward vs generic" in table and "tracker" in table
    short = json.loads(run("compare", "--episodes", "3", "--max-turns", "2", "--json").stdout)  # as rollout has
    assert all(s["turns"]["mean"] <= 2 for s in short["policies"].values())
    for args, message in [
        (("--policy", "generic"), "--policy: a comparison needs two or more policies, got 1"),
        (("--policy", "generic", "--policy", "generic"), "--policy: 'generic' is given twice"),
        (("--policy", "generic", "--policy", "trackr"), "did you mean 'tracker'?"),
    ]:
        proc = run("compare", *args, "--episodes", "2", ok=False)
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_pairs_writes_a_pair_per_turn_and_refuses_bad_options(tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    proc = run("pairs", "--out", str(out), "--episodes", "4", "--policy", "tracker", "--policy", "random")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert f"wrote {len(rows)} pairs to {out}" in proc.stderr and len(rows) > 4
    assert {r["chosen_policy"] for r in rows} <= {"tracker", "random"} and max(len(r["prompt"]) for r in rows) > 1
    run("pairs", "--out", str(out), "--episodes", "4", "--policy", "tracker", "--policy", "random", "--max-turns", "2")
    # the prompt holds the conversation so far: at most the second turn's user message, after one exchange
    assert max(len(json.loads(line)["prompt"]) for line in out.read_text().splitlines()) <= 3
    for args, message in [
        (("--policy", "generic"), "--policy: pairs need two or more policies, got 1"),
        (("--policy", "generic", "--policy", "generic"), "--policy: 'generic' is given twice"),
        (("--lead", "oracle"), "--lead: 'oracle' is none of the --policy values tracker, generic"),
        (("--lead", "generc"), "--lead: 'generc' is none of the --policy values tracker, generic (did you mean "
                               "'generic'?)"),
        (("--policy", "generic", "--policy", "trackr"), "did you mean 'tracker'?"),
        (("--env", "PersonaGym/Chat-v9"), "did you mean"),
        # the LLM policy's own message says "pass --backend", an option pairs does not have
        (("--policy", "tracker", "--policy", "llm"), "--policy: 'llm' needs an LLM backend, and pairs runs without "
                                                     "one (template mode)"),
    ]:
        proc = run("pairs", "--out", str(tmp_path / "bad.jsonl"), *args, "--episodes", "2", ok=False)
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "bad.jsonl").exists()


def test_a_policy_module_in_the_current_folder_loads_and_its_bug_shows_as_a_bug(tmp_path: Path) -> None:
    """`personagym rollout --policy mypol:Echo` failed from mypol.py's own folder ("No module named 'mypol'"), and a
    policy that raised ValueError printed "error: my bug", exit 2, as if an option were wrong."""
    (tmp_path / "mypol.py").write_text(
        "from personagym.policies import Policy\n\n"
        "class Echo(Policy):\n    def act(self, observation):\n"
        "        return 'Happy to help: ' + observation['message']\n\n"
        "class Bug(Policy):\n    def act(self, observation):\n        raise ValueError('my bug')\n\n"
        "class Number(Policy):\n    def act(self, observation):\n        return 42\n")
    script = Path(sys.executable).with_name("personagym")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([str(script), "rollout", "--policy", "mypol:Echo", "--episodes", "2", "--json"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["policy"] == "mypol:Echo"
    proc = subprocess.run([str(script), "rollout", "--policy", "mypol:Bug", "--episodes", "2"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert proc.returncode == 1 and "Traceback" in proc.stderr
    assert "the policy 'mypol:Bug' raised ValueError: my bug (episode seed 0)" in proc.stderr
    proc = subprocess.run([str(script), "pairs", "--policy", "tracker", "--policy", "mypol:Bug", "--episodes", "2",
                           "--out", "pairs.jsonl"], capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert proc.returncode == 1 and "Traceback" in proc.stderr  # it said "error: my bug", exit 2, as for bad input
    assert "the policy 'mypol:Bug' raised ValueError: my bug (episode seed 0)" in proc.stderr
    assert not (tmp_path / "pairs.jsonl").exists()
    for command in (["rollout", "--policy", "mypol:Number"],
                    ["compare", "--policy", "generic", "--policy", "mypol:Number"],
                    ["pairs", "--policy", "generic", "--policy", "mypol:Number", "--out", "pairs.jsonl"]):
        # "error: action must be a str (the assistant's message), got int" blamed the user's input
        proc = subprocess.run([str(script), *command, "--episodes", "2"], capture_output=True, text=True, timeout=300,
                              cwd=tmp_path, env=env)
        assert proc.returncode == 2 and "the policy 'mypol:Number' returned int, not the str an answer is (episode " \
            "seed 0)" in " ".join(proc.stderr.split()), (command, proc.stderr)
    proc = subprocess.run([str(script), "rollout", "--policy", "nopol:Echo"], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path, env=env)
    assert proc.returncode == 2 and "run from the folder that holds nopol.py, or add that folder to PYTHONPATH" in \
        proc.stderr.replace("\n", "")


def test_outputs_go_where_they_are_expected(tmp_path: Path) -> None:
    """`generate --out /nonexist/a/b` made a tree of folders at the filesystem's root; `rollout --out ds/README.md`
    replaced a dataset card with JSON lines."""
    proc = run("generate", "--out", str(tmp_path / "missing" / "ds"), "--personas", "2", ok=False)
    assert proc.returncode == 2 and f"directory '{tmp_path / 'missing'}' does not exist" in proc.stderr
    assert not (tmp_path / "missing").exists()
    (tmp_path / "README.md").write_text("a card\n")
    proc = run("rollout", "--episodes", "2", "--out", str(tmp_path / "README.md"), ok=False)
    assert proc.returncode == 2 and "expected a trajectory file named .jsonl or .parquet" in proc.stderr
    # a file given as the folder: it said the folder "does not exist"
    for command in (("rollout", "--episodes", "2", "--out", str(tmp_path / "README.md" / "t.jsonl")),
                    ("generate", "--personas", "2", "--out", str(tmp_path / "README.md" / "ds" / "run"))):
        proc = run(*command, ok=False)
        assert proc.returncode == 2 and f"'{tmp_path / 'README.md'}' is a file, not a directory" in \
            " ".join(proc.stderr.split()), command
    assert (tmp_path / "README.md").read_text() == "a card\n"


def test_ctrl_c_says_interrupted_and_keeps_the_output_as_it_was(tmp_path: Path) -> None:
    """Ctrl-C in `rollout` exited 130 saying nothing (Typer returns it as Exit(130) outside standalone mode)."""
    out = tmp_path / "t.jsonl"
    out.write_text("precious\n")
    proc = subprocess.Popen([sys.executable, "-m", "personagym.cli", "rollout", "--episodes", "1000000", "--show",
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert proc.stdout is not None
    for line in proc.stdout:  # episodes are running: the first one's summary line is out
        if line.startswith("── episode"):
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and err.strip().endswith("interrupted"), err
    assert out.read_text() == "precious\n" and [p.name for p in tmp_path.iterdir()] == ["t.jsonl"]


def _stopped_mid_write(args: list[str], out: Path, full_size: int, sig: signal.Signals | None = None,
                       ) -> tuple[subprocess.Popen[str], Path]:
    """Start `personagym ARGS`, and freeze it (SIGSTOP) while it writes the temporary file of `out`: the file is
    there and shorter than the whole output, so the process is between opening it and renaming it.  Then send
    `sig` and let it go on (to a SIGKILL it cannot)."""
    pattern = re.compile(rf"^\.{re.escape(out.name)}\.[0-9a-f]{{32}}\.tmp$")
    for _ in range(5):  # a slow machine may finish before it is seen half-written: start again
        proc = subprocess.Popen([sys.executable, "-m", "personagym.cli", *args], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        while proc.poll() is None:
            temporary = next((p for p in out.parent.iterdir() if pattern.match(p.name)), None)
            if temporary is not None and temporary.stat().st_size > 0:
                proc.send_signal(signal.SIGSTOP)
                if temporary.exists() and temporary.stat().st_size < full_size:
                    if sig is not None:
                        proc.send_signal(sig)
                    proc.send_signal(signal.SIGCONT)
                    return proc, temporary
                proc.send_signal(signal.SIGCONT)
            time.sleep(0.002)
        proc.communicate()
    pytest.fail(f"never saw {out} half-written")


def test_sigterm_or_ctrl_c_during_export_removes_its_temporary_file(tmp_path: Path) -> None:
    """SIGTERM killed an export on the spot, leaving its hidden temporary file beside --out; now SIGTERM stops
    it as Ctrl-C does: temporary removed, the file that was at --out unchanged, status 143 ("terminated").
    After kill -9, which nothing can handle, the next write of --out names the file left behind."""
    data = tmp_path / "ds"
    run("generate", "--out", str(data), "--personas", "300", "--format", "jsonl", "--shard-size", "50")
    whole = tmp_path / "whole.jsonl"
    run("export", str(data), "--to", "chat", "--out", str(whole))
    out = tmp_path / "chat.jsonl"
    out.write_text("precious\n")
    args = ["export", str(data), "--to", "chat", "--out", str(out)]
    for sig, status, said in ((signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")):
        proc, temporary = _stopped_mid_write(args, out, whole.stat().st_size, sig)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == status and err.strip().splitlines()[-1] == said, err
        assert "Traceback" not in err and not temporary.exists()
        assert out.read_text() == "precious\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["chat.jsonl", "ds", "whole.jsonl"]
    proc, temporary = _stopped_mid_write(args, out, whole.stat().st_size)
    proc.kill()
    proc.communicate(timeout=120)
    assert temporary.exists() and out.read_text() == "precious\n"
    again = run(*args)
    assert f"warning: {temporary} is the temporary file of a write of {out} that was killed" in \
        " ".join(again.stderr.split())
    assert out.read_bytes() == whole.read_bytes() and temporary.exists()  # it may be another export's: kept


#: Run by `test_a_signal_that_a_serializer_rewraps_still_stops_the_write` in a process of its own (a SIGTERM
#: that nothing handles would end the test run).
_REWRAPPED = """
import os, signal, sys, time
from pathlib import Path
from personagym.cli import Terminated, write_out
from personagym.data.trajectories import write_lines

out = Path(sys.argv[1])
before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

def lines(sig):
    yield "first"
    try:
        os.kill(os.getpid(), sig)
        time.sleep(30)  # the handler raises in here
    except BaseException as exc:  # as pydantic's serializer does
        raise ValueError("Error calling function `_slots_out`: KeyboardInterrupt") from exc
    yield "never"

for sig, stop in ((signal.SIGTERM, Terminated), (signal.SIGINT, KeyboardInterrupt)):
    try:
        write_out(out, lambda: write_lines(lines(sig), out), "row")
    except stop:
        print(sig.name, "stopped", sorted(p.name for p in out.parent.iterdir()), out.read_text().strip())
print("handlers restored:", {sig: signal.getsignal(sig) for sig in before} == before)
"""


def test_a_signal_that_a_serializer_rewraps_still_stops_the_write(tmp_path: Path) -> None:
    """pydantic turns an exception raised inside its serializer into a PydanticSerializationError (a ValueError):
    Ctrl-C while `import` wrote printed that as a traceback.  The write stops as the signal asks, its temporary
    file removed, and the signal handlers are as they were before."""
    out = tmp_path / "rows.jsonl"
    out.write_text("precious\n")
    proc = subprocess.run([sys.executable, "-c", _REWRAPPED, str(out)], capture_output=True, text=True, timeout=120,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["SIGTERM stopped ['rows.jsonl'] precious",
                                        "SIGINT stopped ['rows.jsonl'] precious", "handlers restored: True"]


def test_the_worker_bound_is_in_the_help() -> None:
    assert "Worker processes, 1 to 4 per CPU this process may use (more are refused)" in _help("generate")
    assert "1 to 4 per CPU this process may use (more are refused)" in _help("stats")


def test_a_models_home_that_is_a_file_is_named(tmp_path: Path) -> None:
    # `models prepare --home afile` said "error: [Errno 17] File exists: 'afile'"; `models list` listed nothing, exit 0
    afile = tmp_path / "afile"
    afile.write_text("not a folder\n")
    for command in (("models", "prepare", "--home", str(afile)), ("models", "list", "--home", str(afile))):
        proc = run(*command, ok=False)
        assert proc.returncode == 2 and "is a file; expected a models directory" in " ".join(proc.stderr.split())
    assert afile.read_text() == "not a folder\n"


def test_an_out_that_is_a_symbolic_link_loop_is_one_clear_line(tmp_path: Path) -> None:
    """Path.resolve raised RuntimeError for a link loop: export and import printed a traceback, and generate
    said only "File exists"."""
    (tmp_path / "a.jsonl").symlink_to("b.jsonl")
    (tmp_path / "b.jsonl").symlink_to("a.jsonl")
    persona = tmp_path / "p.jsonl"
    run("personas", "sample", "-n", "1", "--out", str(persona))
    commands = [("personas", "sample", "-n", "1", "--out", "{a}"), ("import", str(persona), "--out", "{a}"),
                ("generate", "--personas", "1", "--format", "jsonl", "--out", "{a}")]
    for args in commands:
        proc = run(*(arg.format(a=tmp_path / "a.jsonl") for arg in args), ok=False)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert "a.jsonl' is a symbolic link loop" in proc.stderr
    assert (tmp_path / "a.jsonl").is_symlink() and (tmp_path / "b.jsonl").is_symlink()
    for args in (("stats", "{a}"), ("export", "{a}", "--to", "chat", "--out", str(tmp_path / "c.jsonl"))):
        proc = run(*(arg.format(a=tmp_path / "a.jsonl") for arg in args), ok=False)  # "does not exist"
        assert proc.returncode == 2 and "a.jsonl is a symbolic link that leads to nothing" in proc.stderr, proc.stderr
    proc = run("import", str(tmp_path / "a.jsonl"), "--out", str(tmp_path / "x.jsonl"), ok=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "a.jsonl: cannot read it (too many levels of symbolic links)" in proc.stderr


def test_generate_that_fails_writing_its_card_names_the_cause(tmp_path: Path) -> None:
    """A run that committed every shard and then could not write a plot (a real file size limit, as `ulimit -f`:
    EFBIG, as a full disk's ENOSPC) said "--out holds a complete dataset: nothing to resume", hiding the error,
    and left its new card beside missing plots."""
    pytest.importorskip("matplotlib")
    args = ("generate", "--personas", "2", "--shard-size", "1", "--format", "jsonl", "--out")
    run(*args, str(tmp_path / "ref"))
    sizes = {p.relative_to(tmp_path / "ref").as_posix(): p.stat().st_size for p in (tmp_path / "ref").rglob("*.*")}
    limit = max(n for name, n in sizes.items() if not name.startswith("card/")) + 1
    assert limit < max(n for name, n in sizes.items() if name.startswith("card/")), "no plot above the limit"

    def limited() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "personagym.cli", *args, str(out)], capture_output=True, text=True,
                          timeout=300, preexec_fn=limited)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert re.search(r"cannot write the dataset card at \S+\.png \(File too large\)", proc.stderr)
    assert "only the card is missing: `personagym stats" in proc.stderr and "nothing to resume" not in proc.stderr
    assert not (out / "README.md").exists()
    run("stats", str(out))
    assert (out / "README.md").exists()


def test_stats_and_generate_wait_for_no_one_while_a_run_writes(tmp_path: Path) -> None:
    """A second process writing in a run's directory is refused, naming it, with status 1."""
    out = tmp_path / "run"
    run("generate", "--out", str(out), "--personas", "2", "--format", "jsonl")
    card = (out / "README.md").read_bytes()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()", str(out)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        for args in (("stats", str(out)),
                     ("generate", "--out", str(out), "--personas", "2", "--format", "jsonl", "--resume")):
            proc = run(*args, ok=False)
            assert proc.returncode == 1 and "is being written by another process" in proc.stderr, proc.stderr
    finally:
        holder.stdin.close()
        holder.wait()
        holder.stdout.close()
    assert (out / "README.md").read_bytes() == card
