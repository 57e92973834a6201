"""The `personagym` command.

Command names are stable: scripts and later issues build on them.  Bad input
ends with one line on stderr naming the field, the value and what is
expected, and exit status 2; nothing already written is touched.  Ctrl-C
exits with status 130, and SIGTERM while a command writes its --out file
with 143, the temporary file removed and an existing --out unchanged.
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TextIO, TypeVar, get_args

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from personagym.suggest import describe_validation, did_you_mean

if TYPE_CHECKING:
    from personagym.data.generate import Manifest
    from personagym.records import Persona, UserTurn

T = TypeVar("T")
#: The metavar of an on/off flag: none (Typer writes "<bool>", which reads as if the flag took a value).
FLAG = ""
#: --json of the commands that print a table, or that same data as JSON.
JsonOpt = Annotated[bool, typer.Option("--json", metavar=FLAG, help="Print JSON.")]

app = typer.Typer(
    help="PersonaGym: simulated users with hidden, evolving profiles for LLM personalization.",
    no_args_is_help=True,
    add_completion=False,
)
taxonomy_app = typer.Typer(help="The interest taxonomy.", no_args_is_help=True)
personas_app = typer.Typer(help="Persona schema, sampling and import.", no_args_is_help=True)
app.add_typer(taxonomy_app, name="taxonomy")
app.add_typer(personas_app, name="personas")
models_app = typer.Typer(help="Embedded local LLMs (shipped in Python packages, prepared offline).",
                         no_args_is_help=True)
app.add_typer(models_app, name="models")

console = Console()
err_console = Console(stderr=True, soft_wrap=True)  # messages are never hard-wrapped mid-path
# progress bars show on a terminal only: written to a pipe or a log, a bar that went away left a blank line


#: How library messages spell an option, and how the command line spells it.
_CLI_WORDS = (("generate(..., resume=True)", "`personagym generate` with the same options and --resume"),
              (" or pass allow_incomplete=True", ""), ("resume=True", "--resume"), ("fmt=", "--format="),
              ("generate() needs", "generate needs"), ("env_id '", "--env '"),
              ("config: personas=", "config: --personas="), ("shards of shard_size=", "shards of --shard-size="),
              ("(fewer personas or a larger shard_size)", "(fewer --personas or a larger --shard-size)"),
              ("x episodes_per_persona=", "x --episodes-per-persona="),
              ("(fewer personas or episodes_per_persona)", "(fewer --personas or --episodes-per-persona)"),
              ("max_turns must be", "--max-turns must be"))


#: A config field a resumed run differs in ("shard_size=256 there, 7 now"), named by its option.
_CONFIG_DIFF = re.compile(r"(?<![\w-])([a-z_]+)=(?=[^,]* there, )")
_OPTION_OF_FIELD = {"env_id": "env", "fmt": "format"}


def cli_words(message: str) -> str:
    """A library message in the command line's terms (`--resume`, not `resume=True`; `--shard-size=7`, not
    `shard_size=7`)."""
    for api, cli in _CLI_WORDS:
        message = message.replace(api, cli)
    return _CONFIG_DIFF.sub(lambda m: f"--{_OPTION_OF_FIELD.get(m[1], m[1]).replace('_', '-')}=", message)


#: Exit statuses a `fail` message has explained: `main` adds no "interrupted" line after `generate`'s own.
_EXPLAINED: set[int] = set()


def fail(message: str, status: int = 2) -> NoReturn:
    """Print a one-line error, in the command line's terms, and exit with `status` (2: bad input)."""
    err_console.print(f"[bold red]error:[/] {escape(cli_words(message))}", highlight=False, soft_wrap=True)
    _EXPLAINED.add(status)
    raise typer.Exit(status)


class Terminated(BaseException):
    """SIGTERM arrived while `write_out` wrote --out.

    Raised in the main thread, as Ctrl-C raises KeyboardInterrupt, so the atomic
    writer removes its temporary file on the way out: SIGTERM's default action
    killed `export` on the spot and left a hidden ``.NAME.HEX.tmp`` beside --out.
    A BaseException, so that no ``except Exception`` on the way takes it for a
    failure of the data.
    """


#: Exit status of a command stopped by SIGTERM: 128 + 15, as a shell reports a process the signal killed.
TERMINATED_STATUS = 128 + signal.SIGTERM


@contextmanager
def _stopping_cleanly() -> Iterator[list[int]]:
    """While the block runs, SIGTERM raises `Terminated`; a list collects the signals (SIGINT, SIGTERM) that came.

    Only this block, and only in the main thread (where a handler can be set):
    a process-wide handler would also change how `generate` and its worker pool
    stop.  The previous handlers are restored afterwards, and a signal that was
    ignored stays ignored.  SIGINT still acts as before (KeyboardInterrupt) but
    is noted too: pydantic turns either exception, raised inside one of its
    serializers, into a `PydanticSerializationError`, and Ctrl-C during
    `import` printed that as a traceback.  A second signal while the first one
    unwinds the block is noted but raises nothing, so the cleanup is not cut short.
    """
    noted: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield noted
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def stop(signum: int, frame: Any) -> None:
        noted.append(signum)
        if len(noted) > 1:
            return
        before = previous[signum]
        if callable(before):  # Python's own SIGINT handler raises KeyboardInterrupt
            before(signum, frame)
        else:
            raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt

    handled = [sig for sig, before in previous.items() if before is not signal.SIG_IGN and before is not None]
    for sig in handled:
        signal.signal(sig, stop)
    try:
        yield noted
    finally:
        for sig in handled:
            signal.signal(sig, previous[sig])


def _stop_for(signals: list[int]) -> BaseException:
    """The exception the first of `signals` stands for: `Terminated` for SIGTERM, else KeyboardInterrupt."""
    return Terminated() if signals[0] == signal.SIGTERM else KeyboardInterrupt()


def _print_summary(value: object) -> None:
    """Print a computed summary as indented JSON, its floats to 6 significant digits (`rounded`)."""
    from personagym.eval.summary import rounded

    print(json.dumps(rounded(value), indent=2))


def _count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 shard', '4 shards', '12,000 trajectories'."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def check_out_file(out: Path, option: str = "--out", inputs: Iterable[Path] = ()) -> None:
    """Fail before any work unless a file can be written at `out`: not a directory, in a writable directory,
    and neither one of the command's `inputs` nor inside an input directory (it would replace what it reads)."""
    _refuse_link_loop(out, option)
    if out.is_dir():
        fail(f"{option}: {str(out)!r} is a directory; expected a file path")
    target = _real(out)
    for source in inputs:
        if target == _real(source) or _real(source) in target.parents:
            fail(f"{option}: {str(out)!r} would overwrite the input {str(source)!r}; write it elsewhere")
    parent = out.parent
    if not parent.is_dir():
        _fail_missing_dir(option, parent)
    _check_writable(parent, option)


def _real(path: Path) -> Path:
    """`path` with its symbolic links resolved, as far as they lead: `Path.resolve` raises RuntimeError for a
    link loop (a traceback where a one-line error was due)."""
    return Path(os.path.realpath(path))


def _refuse_link_loop(path: Path, option: str) -> None:
    """Fail naming `option` if `path` is a symbolic link loop: nothing can be written through it, and the atomic
    writers would have replaced the link itself."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            fail(f"{option}: {str(path)!r} is a symbolic link loop ({exc.strerror}); expected a path that leads to "
                 "a file or directory")


def os_error_message(exc: OSError) -> str:
    """An OS error as one line naming its file: 'p/shard-00001.jsonl: Permission denied', not '[Errno 13] ...'."""
    reason = exc.strerror or str(exc)
    return f"{exc.filename}: {reason}" if exc.filename is not None else reason


def _fail_missing_dir(option: str, directory: Path, hint: str = "") -> NoReturn:
    """Fail for an output directory that does not exist, naming the file that stands where a folder of its path
    should ("afile/x.jsonl": "does not exist" sent the user looking for a missing folder)."""
    above = next((p for p in (directory, *directory.parents) if p.exists()), None)
    if above is not None and not above.is_dir():
        fail(f"{option}: {str(above)!r} is a file, not a directory; expected a path in a directory")
    fail(f"{option}: directory {str(directory)!r} does not exist{hint}")


def _check_names(env: str, policies: Iterable[str]) -> None:
    """Fail naming --env or --policy for an unknown env id or policy name, before anything runs."""
    from personagym.policies import check_policy_name
    from personagym.rollout import check_env_id

    try:
        check_env_id(env)
    except ValueError as exc:
        fail(f"--env: {exc}")
    for policy in policies:
        try:
            check_policy_name(policy)
        except ValueError as exc:
            fail(f"--policy: {exc}")


#: What a file of trajectories or rows may be named: JSON lines, or Parquet where the command writes it.
JSON_LINES_SUFFIXES = (".jsonl", ".json", ".ndjson")
TRAJECTORY_SUFFIXES = (*JSON_LINES_SUFFIXES, ".parquet")


def check_json_lines_out(out: Path) -> None:
    """Fail unless `out` names a JSON-lines file: ``.parquet`` got JSON lines, which Parquet readers refuse, and
    ``README.md`` a card's place.  A directory is named as one first (`export --out adir` was told to name the
    file .jsonl, as if a suffix were all that was wrong)."""
    if out.is_dir():
        fail(f"--out: {str(out)!r} is a directory; expected a file path")
    if out.suffix.lower() not in JSON_LINES_SUFFIXES:
        fail(f"--out {str(out)!r}: this command writes JSON lines; name the file .jsonl")


def _check_writable(directory: Path, option: str) -> None:
    """Fail unless a file can be made in `directory`: an empty probe file is written and removed
    (permission bits alone miss read-only mounts and immutable directories)."""
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".personagym.probe."):
            pass
    except OSError as exc:
        fail(f"{option}: cannot write in directory {str(directory)!r} ({exc.strerror or exc})")


def write_out(out: Path, write: Callable[[], int], noun: str, plural: str | None = None) -> int:
    """Run `write` (an atomic writer of `out`) and report the count; an OS error is one line naming --out.

    The writers replace `out` only once the new file is whole, so on failure an
    existing file is as it was.  Replacing one is said, so that it is no surprise.
    SIGTERM or Ctrl-C stops the write with `Terminated` or KeyboardInterrupt
    (`_stopping_cleanly`), even where a serializer turned it into another error,
    after the temporary file is removed.
    """
    existed = out.is_file()
    _warn_stale_temporaries(out)
    with _stopping_cleanly() as stopped:
        try:
            count = write()
        except Exception as exc:
            if stopped:  # the signal's exception, as pydantic's serializer rewrapped it
                raise _stop_for(stopped) from exc
            if not isinstance(exc, OSError):
                raise
            if exc.filename is not None and Path(exc.filename).parent != out.parent:  # a file it read, not --out
                fail(os_error_message(exc))
            fail(f"--out {str(out)!r}: cannot write it ({exc.strerror or exc}); an existing file is unchanged")
        if stopped:  # its exception got lost on the way (the file is whole): stop as asked all the same
            raise _stop_for(stopped)
    replaced = " (it replaced the file that was there)" if existed else ""
    err_console.print(f"wrote {_count(count, noun, plural)} to {out}{replaced}", highlight=False)
    return count


def _warn_stale_temporaries(out: Path) -> None:
    """Warn about temporary files of `out` that a killed write left: kill -9 (or a power cut) gives no chance
    to remove them, and, hidden, they were found only when the disk filled.  Not removed: one may be the file
    of a write of `out` still running in another process."""
    from personagym.data.trajectories import temporary_pattern

    target = Path(os.path.realpath(out)) if out.is_symlink() else out  # the atomic writers write beside the target
    pattern = temporary_pattern(re.escape(target.name))
    try:
        stale = sorted(p for p in target.parent.iterdir() if pattern.match(p.name))
    except OSError:  # an unreadable folder: the write says what is wrong with it
        return
    for path in stale:
        err_console.print(f"[yellow]warning:[/] {escape(str(path))} is the temporary file of a write of "
                          f"{escape(str(out))} that was killed (or still runs in another process); remove it "
                          "once no other write of it runs", highlight=False)


def distinct_files(files: list[Path]) -> list[Path]:
    """`files` without repeats, in the order given; a file named again (even by another path) is warned about.

    An import reads each file once: a file given twice (a shell glob overlapping a name, `a.json ./a.json`)
    would otherwise come out twice, with the same id.
    """
    seen: dict[Path, Path] = {}  # resolved path -> the path first given for it
    for file in files:
        first = seen.get(_real(file))
        if first is None:
            seen[_real(file)] = file
            continue
        again = "" if str(first) == str(file) else f" (as {str(first)!r})"
        err_console.print(f"[yellow]warning:[/] {escape(str(file))} is given more than once{escape(again)}; "
                          "it is imported once", highlight=False)
    return list(seen.values())


# -- taxonomy -------------------------------------------------------------------------------
@taxonomy_app.command("stats")
def taxonomy_stats(as_json: JsonOpt = False) -> None:
    """Node count, top-level categories, depth histograms, aliases, tagged and grouping nodes, "the" names, kinds."""
    from personagym.simulators.taxonomy import load_taxonomy

    stats = load_taxonomy().stats()
    if as_json:
        print(json.dumps(stats, indent=2))
        return
    table = Table(title="Interest taxonomy", show_header=False)
    for key in ("nodes", "top_level_count", "aliases", "tagged_nodes", "grouping_nodes", "definite_surfaces"):
        table.add_row(key.replace("_", " "), str(stats[key]))
    table.add_row("kinds (nodes)", ", ".join(f"{k} {n}" for k, n in stats["kinds"].items()))  # type: ignore[union-attr]
    table.add_row("depth histogram", json.dumps(stats["depth_histogram"]))
    table.add_row("leaf depths", json.dumps(stats["leaf_depth_histogram"]))
    table.add_row("top level", ", ".join(stats["top_level"]))  # type: ignore[arg-type]
    console.print(table)


# -- personas -------------------------------------------------------------------------------
@personas_app.command("schema")
def personas_schema(as_json: JsonOpt = False) -> None:
    """The persona schema: tiers, categories, attributes and their value domains."""
    from personagym.simulators.persona import load_schema

    data = load_schema().as_data()
    if as_json:
        print(json.dumps(data, indent=2))
        return
    table = Table(title=f"Persona schema ({data['attribute_count']} attributes)")
    for col in ("tier", "category", "attribute", "type", "role", "domain"):
        table.add_column(col)
    for tier in data["tiers"]:
        for cat in tier["categories"]:
            for a in cat["attributes"]:
                domain = (f"taxonomy:{a['root']}" if a["type"] == "taxonomy"
                          else ", ".join(a["values"][:6]) + (" ..." if len(a["values"]) > 6 else ""))
                table.add_row(tier["id"], cat["id"], a["name"], a["type"], a["role"], domain)
    console.print(table)


#: How the persona sampler draws attribute values (`SamplerConfig.value_weights`).
ValueWeightsOpt = Annotated[str, typer.Option(
    help="population: values as common as in a population (few blind, most over-sixties retired); "
         "uniform: every value alike, as PPOpt samples.")]


def _check_value_weights(value: str) -> None:
    """Fail naming --value-weights unless `value` is population or uniform."""
    from personagym.simulators.sampler import ValueWeights

    choices = get_args(ValueWeights)
    if value not in choices:
        fail(f"--value-weights: unknown value {value!r}{did_you_mean(value, choices)}; "
             f"expected {' or '.join(choices)}")


@personas_app.command("sample")
def personas_sample(
    n: Annotated[int, typer.Option("-n", "--count", help="Number of personas.", min=1)] = 10,
    seed: Annotated[int, typer.Option(help="Random seed.", min=0)] = 0,
    out: Annotated[Path | None, typer.Option(help="Write JSON lines here (default: stdout).")] = None,
    availability: Annotated[float, typer.Option(help="P(an attribute is present), in [0, 1].")] = 0.7,
    min_hamming: Annotated[int, typer.Option(help="Min attributes any two personas differ in.")] = 3,
    value_weights: ValueWeightsOpt = "population",
) -> None:
    """Sample a diverse batch of coherent personas (any two differ in at least --min-hamming attributes)."""
    from rich.progress import Progress

    from personagym.simulators.sampler import DiversityError, PersonaSampler, SamplerConfig

    _check_value_weights(value_weights)
    try:
        config = SamplerConfig(availability=availability, min_hamming=min_hamming,
                               value_weights=value_weights)  # type: ignore[arg-type]
    except ValidationError as exc:
        fail(describe_validation(exc, {"availability": "--availability", "min_hamming": "--min-hamming"}))
    if out is not None:
        check_out_file(out)
        check_json_lines_out(out)
    try:
        sampler = PersonaSampler(config=config)
    except ValueError as exc:
        fail(f"--min-hamming: {exc}")
    # a large batch takes a while (100,000 personas: about a minute): a bar on a terminal, on stderr; and a batch
    # whose personas cannot all be --min-hamming apart stops at the first that falls short (--min-hamming 130
    # spun for minutes, 50 draws per persona, and then only warned)
    with Progress(console=err_console, transient=True, disable=not err_console.is_terminal) as bar:
        task = bar.add_task("personas", total=n)

        def report(done: int) -> None:
            if done % 250 == 0 or done == n:  # not each persona: 100,000 updates of the bar cost a second
                bar.update(task, completed=done)

        try:
            personas = sampler.sample_batch(n, seed=seed, strict=True, progress=report)
        except DiversityError as exc:
            fail(f"--min-hamming: {exc}")
    rows = (p.model_dump_json() for p in personas)
    if out is None:
        for row in rows:
            print(row)
        return
    from personagym.data.trajectories import write_lines

    write_out(out, lambda: write_lines(rows, out), "persona")


@personas_app.command("import")
def personas_import(
    files: Annotated[list[Path], typer.Argument(help="PPOpt persona/interaction JSON or persona bank YAML.")],
    source: Annotated[str, typer.Option("--from", help="Source format (ppopt).")] = "ppopt",
    out: Annotated[Path | None, typer.Option(help="Write imported personas as JSON lines here.")] = None,
) -> None:
    """Import PPOpt personas into this schema; unmappable files are reported, the rest import."""
    from personagym.simulators.persona import load_schema
    from personagym.simulators.ppopt import import_files

    if source != "ppopt":
        fail(f"--from: unknown source {source!r}{did_you_mean(source, ('ppopt',))}; expected 'ppopt'")
    if out is not None:
        check_out_file(out, inputs=files)
        check_json_lines_out(out)
    report = import_files(distinct_files(files), load_schema())
    for f in report.files:
        if f["status"] == "failed":
            err_console.print(f"[red]failed[/] {escape(str(f['file']))}: {escape(str(f['reason']))}", highlight=False)
        elif f["status"] == "bank":
            err_console.print(f"persona bank {f['file']}: all {f['dimensions']} dimensions mapped")
        else:
            err_console.print(f"imported {f['file']} -> {f['persona_id']} ({_count(f['attributes'], 'attribute')})",
                              highlight=False)
            for warning in f.get("warnings", []):
                err_console.print(f"  [yellow]warning:[/] {escape(str(warning))}", highlight=False)
    rows = [p.model_dump_json() for p in report.personas]
    if out is not None:
        if rows:  # nothing imported: an existing file is left as it was
            from personagym.data.trajectories import write_lines

            write_out(out, lambda: write_lines(rows, out), "persona")
        elif not report.failed:  # only persona banks, which are checked, not imported: say why --out is absent
            err_console.print(f"no personas to write: {escape(str(out))} is not written (a persona bank is "
                              "checked, not imported)", highlight=False)
    else:
        for row in rows:
            print(row)
    if report.failed:
        raise typer.Exit(1)


# -- models ---------------------------------------------------------------------------------
@models_app.command("prepare")
def models_prepare(
    name: Annotated[str, typer.Argument(help="Embedded model (see `personagym models list`).")]
    = "smollm2-135m-instruct",
    home: Annotated[Path | None, typer.Option(
        help="Models directory (default: $PERSONAGYM_HOME/models, else ~/.cache/personagym/models).")] = None,
    dtype: Annotated[str, typer.Option(help="Weight dtype: bfloat16 or float32 (for CPUs without bf16).")]
    = "bfloat16",
    force: Annotated[bool, typer.Option(
        "--force", metavar=FLAG, help="Convert again even if already prepared.")] = False,
) -> None:
    """Convert an embedded model once into a folder vLLM and transformers load offline; print the folder."""
    from personagym.llm.local import DTYPES, prepare_model

    if dtype not in DTYPES:  # named as the option ("dtype: unknown dtype" named the function's argument)
        fail(f"--dtype: unknown dtype {dtype!r}{did_you_mean(dtype, DTYPES)}; expected one of {', '.join(DTYPES)}")
    _check_models_home(home)
    try:
        folder = prepare_model(name, home=home, dtype=dtype, force=force)  # type: ignore[arg-type]
    except OSError as exc:  # "[Errno 1] Operation not permitted: 'imm/.smollm2-135m-instruct.lock'" named no option
        where = exc.filename or home or "the models directory"
        fail(f"--home: cannot prepare the model in {str(where)!r} ({exc.strerror or exc})")
    except (ValueError, TypeError, ImportError) as exc:
        fail(str(exc))
    print(folder)


def _check_models_home(home: Path | None) -> None:
    """Fail unless `home` is None, a directory, or a path one can be made at (not a file)."""
    if home is not None and home.exists() and not home.is_dir():
        fail(f"--home: {str(home)!r} is a file; expected a models directory")


@models_app.command("list")
def models_list(
    home: Annotated[Path | None, typer.Option(help="Models directory (default: as for `prepare`).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The embedded models: source package, installed, prepared, folder and size on disk."""
    from personagym.llm.local import list_models

    _check_models_home(home)
    infos = list_models(home)
    if as_json:
        print(json.dumps([i.model_dump(mode="json") for i in infos], indent=2))
        return
    table = Table(title="Embedded models")
    for col in ("name", "package", "installed", "prepared", "size", "path"):
        table.add_column(col, overflow="fold")  # a narrow terminal or a pipe wraps values, never cuts them
    for i in infos:
        size = f"{i.size_bytes / 2**20:,.0f} MiB ({i.dtype})" if i.prepared else "-"
        table.add_row(i.name, i.package, "yes" if i.installed else "no", "yes" if i.prepared else "no", size, i.path)
    console.print(table)


# -- LLM mode options -----------------------------------------------------------------------
_BACKEND_HELP = ("LLM backend: template (no LLM), local (embedded model, in-process vLLM), vllm (in-process vLLM on "
                 "--model) or openai (an OpenAI-compatible server at --base-url). It writes the user's words")
#: --backend of `simulate` (user turns only), of `compare` and `generate` (the llm policies use it), of `rollout`
UserBackendOpt = Annotated[str, typer.Option("--backend", help=f"{_BACKEND_HELP}.")]
PolicyBackendOpt = Annotated[str, typer.Option("--backend", help=f"{_BACKEND_HELP}; the llm policies use it too.")]
BackendOpt = Annotated[str, typer.Option(
    "--backend", help=f"{_BACKEND_HELP}; the llm policies and --judge use it too.")]
ModelOpt = Annotated[str | None, typer.Option(
    "--model", help="Model: a folder or hub name for vllm, the served model name for openai.")]
BaseUrlOpt = Annotated[str | None, typer.Option(
    "--base-url", help="API root of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1.")]
MaxTurnsOpt = Annotated[int | None, typer.Option(
    "--max-turns", min=1, help="Answers per session (default: the env's own, 8 for the Chat envs and 6 for "
                               "LongTerm). Fewer turns make short LLM-mode runs on a CPU.")]


def turn_kwargs(max_turns: int | None) -> dict[str, int]:
    """Env keyword arguments for --max-turns: none when it is not given (the env's own limit)."""
    return {} if max_turns is None else {"max_turns": max_turns}


def backend_kwargs(backend: str, model: str | None, base_url: str | None) -> dict[str, object]:
    """Env keyword arguments for the LLM options (none in template mode).

    Bad combinations, a URL that is not http(s) and a backend's missing packages fail here, before a run starts
    (missing packages failed at the first request, after generate made --out): the checks are the library's
    `check_backend_args`, naming the options as the command line spells them.
    """
    from personagym.llm.registry import COMMAND_LINE_NAMES, check_backend_args

    try:
        check_backend_args(backend, model=model, base_url=base_url, names=COMMAND_LINE_NAMES)
    except (ValueError, ImportError) as exc:
        fail(str(exc))
    return {} if backend == "template" else {"backend": backend, "model": model, "base_url": base_url}


@contextmanager
def _engine_logs_to_stderr(active: bool) -> Iterator[TextIO]:
    """While active, file descriptor 1 is stderr: an LLM engine's logs (vLLM prints to stdout, in this
    process and in its engine process) stay out of the command's output.  Yields the real stdout."""
    if not active:
        yield sys.stdout
        return
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    real = os.fdopen(os.dup(saved), "w", encoding="utf-8")
    try:
        yield real
    finally:
        real.close()
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _all_fell_back(fallbacks: int, turns: int) -> None:
    """Exit 1 when every user turn of an LLM-mode run fell back to the template words: nothing written would
    hold the LLM's words."""
    if turns and fallbacks == turns:
        fail(f"no user turn kept the LLM's words: all {_count(turns, 'user turn')} fell back to the template "
             "words (every request failed, with the errors above, or every reply failed the output checks: a "
             "reply must keep the turn's facts); fix the backend or use a larger model, or use --backend "
             "template for template text", status=1)


def _guarded(stream: Iterable[T]) -> Iterator[T]:
    """Items of a lazy stream; a bad-input or backend error ends the command with its message."""
    from personagym.llm.types import LLMError

    try:
        yield from stream
    except (ValueError, TypeError, OSError, ImportError, LLMError) as exc:
        fail(str(exc))


# -- simulation -----------------------------------------------------------------------------
@app.command()
def simulate(
    n: Annotated[int, typer.Option("-n", "--turns", help="Number of user turns.", min=1)] = 10,
    seed: Annotated[int, typer.Option(help="Random seed.", min=0)] = 0,
    noise_rate: Annotated[float, typer.Option(help="Fraction of utterances noised, in [0, 1].")] = 0.25,
    as_json: Annotated[bool, typer.Option("--json", metavar=FLAG, help="One JSON object per line.")] = False,
    backend: UserBackendOpt = "template",
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Simulate user turns: text, clean text, noise record, PKIs, and who wrote the words."""
    from personagym.simulators.noise import NoiseConfig
    from personagym.simulators.simulate import simulate_turns

    try:
        noise = NoiseConfig(rate=noise_rate)
    except ValidationError as exc:
        fail(describe_validation(exc, {"rate": "--noise-rate"}))
    llm = backend_kwargs(backend, model, base_url)
    stream = simulate_turns(n, seed, noise=noise)
    if llm:
        from personagym.simulators.simulate import realize_turns

        stream = realize_turns(stream, **llm)  # type: ignore[arg-type]
    with _engine_logs_to_stderr(bool(llm)) as stdout:
        fallbacks = _print_turns(_guarded(stream), as_json, stdout)
    if llm:
        _all_fell_back(fallbacks, n)


def _print_turns(stream: Iterable[tuple[Persona, UserTurn]], as_json: bool, stdout: TextIO) -> int:
    """Print simulated turns (JSON lines, or a readable transcript); returns how many fell back to templates."""
    out = Console(file=stdout)
    last_persona, fallbacks = None, 0
    for persona, turn in stream:
        fallbacks += turn.rendered_by == "template_fallback"
        if as_json:
            row = {"persona_id": persona.persona_id, **turn.model_dump(mode="json")}
            print(json.dumps(row, ensure_ascii=False), file=stdout)
            continue
        if persona.persona_id != last_persona:
            last_persona = persona.persona_id
            out.rule(f"[bold]{escape(persona.persona_id)}[/]")
            out.print(f"[dim]{escape(persona.summary)}[/]", highlight=False)
        by = "" if turn.rendered_by == "template" else f" [magenta]({turn.rendered_by})[/]"
        out.print(f"[cyan]s{turn.session} t{turn.turn} {turn.intent.kind}[/]{by} {escape(turn.text)}",
                      highlight=False)
        if turn.noise.layer != "none":
            out.print(f"    [yellow]noise {turn.noise.layer}: {', '.join(turn.noise.strategies)}[/]"
                          f" [dim](clean: {escape(turn.clean_text)})[/]", highlight=False)
        for pki in turn.pkis:
            value = f"={pki.value}" if pki.value else ""
            out.print(f"    [green]pki[/] {pki.kind} {escape(pki.key + value)} pol={pki.polarity:+d} "
                          f"{pki.certainty} «{escape(pki.evidence)}»", highlight=False)
    return fallbacks


@app.command()
def envs(as_json: JsonOpt = False) -> None:
    """List the registered PersonaGym env ids."""
    from personagym.envs.registration import ENV_SPECS

    if as_json:
        print(json.dumps({k: {"description": d, "kwargs": kw} for k, (d, kw) in ENV_SPECS.items()}, indent=2))
        return
    table = Table(title="PersonaGym envs")
    table.add_column("id")
    table.add_column("what")
    for env_id, (description, _) in ENV_SPECS.items():
        table.add_row(env_id, description)
    console.print(table)


@app.command()
def rollout(
    env: Annotated[str, typer.Option("--env", help="Env id (see `personagym envs`).")] = "PersonaGym/Chat-v0",
    policy: Annotated[
        str, typer.Option(help="Policy name (generic, popular, random, oracle, tracker; llm, llm-profile with an LLM "
                               "backend) or module:Class.")
    ] = "generic",
    episodes: Annotated[int, typer.Option(help="Number of episodes.", min=1)] = 20,
    seed: Annotated[int, typer.Option(help="Seed of episode 0 (episode i uses seed + i).", min=0)] = 0,
    out: Annotated[Path | None, typer.Option(help="Write the trajectories here.")] = None,
    fmt: Annotated[str | None, typer.Option(
        "--format", help="Trajectory file format: jsonl or parquet (default: parquet if --out ends in .parquet)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", metavar=FLAG, help="Print the summary as JSON.")] = False,
    backend: BackendOpt = "template",
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    judge: Annotated[bool, typer.Option(
        "--judge", metavar=FLAG,
        help="Add the LLM judge's rubric score as an extra reward term (needs an LLM backend).")] = False,
    show: Annotated[bool, typer.Option(
        "--show", metavar=FLAG, help="Print each conversation as it happens (the env's render_mode='human').")] = False,
    max_turns: MaxTurnsOpt = None,
) -> None:
    """Run a policy for N episodes; print mean and 95% CI of the reward and its components."""
    from rich.progress import Progress

    from personagym.llm.types import LLMError
    from personagym.rollout import rollout as run
    from personagym.rollout import summarize

    _check_names(env, [policy])
    if fmt is not None and fmt not in ("jsonl", "parquet"):  # a bad format is named before a missing --out
        fail(f"--format: unknown format {fmt!r}{did_you_mean(fmt, ('jsonl', 'parquet'))}; expected jsonl or parquet")
    if fmt is not None and out is None:
        fail(f"--format {fmt}: nothing is written without --out; pass --out PATH")
    suffix = out.suffix.lower() if out is not None else ""  # x.PARQUET got JSON lines, and y.JSONL Parquet
    if fmt is None:
        fmt = "parquet" if suffix == ".parquet" else "jsonl"
    if out is not None:
        if suffix in (".jsonl", ".parquet") and suffix != f".{fmt}":
            fail(f"--format {fmt} does not match --out {str(out)!r}; name the file .{fmt} or drop --format")
        check_out_file(out)
        if suffix not in TRAJECTORY_SUFFIXES:  # --out ds/README.md replaced a dataset card
            fail(f"--out {str(out)!r}: expected a trajectory file named .jsonl or .parquet")
        if fmt == "parquet":  # found missing before the episodes run, not after them
            _require_pyarrow(out)
    if show and as_json:
        fail("--show and --json both print to standard output; drop one of them")
    llm = backend_kwargs(backend, model, base_url)
    turns = turn_kwargs(max_turns)
    if judge:
        if not llm:
            fail("--judge needs an LLM backend: pass --backend local, vllm or openai")
        llm["llm"] = {"judge": True}
    try:
        trajectories = []
        hidden = as_json or show or not err_console.is_terminal
        with _engine_logs_to_stderr(bool(llm)), \
                Progress(console=err_console, transient=True, disable=hidden) as progress:
            task = progress.add_task(f"{policy} on {env}", total=episodes)
            for t in run(env, policy, episodes, seed, **llm, **turns, **({"render_mode": "human"} if show else {})):
                trajectories.append(t)
                progress.advance(task)
                if show:
                    print(f"── episode {len(trajectories) - 1} (seed {t.seed}): reward {t.total_reward:+.3f}, "
                          f"{len(t.turns)} turns ──\n", flush=True)
    except (ValueError, TypeError, OSError, ImportError, LLMError) as exc:
        fail(str(exc))
    if llm:  # nothing is written when no LLM call worked: those would be template episodes labelled LLM mode
        users = [u for t in trajectories for u in t.user_turns()]
        _all_fell_back(sum(u.rendered_by == "template_fallback" for u in users), len(users))
    if out is not None:
        from personagym.data.trajectories import write_jsonl, write_parquet

        writer = write_parquet if fmt == "parquet" else write_jsonl
        write_out(out, lambda: writer(trajectories, out), "trajectory", "trajectories")
    summary = {"env": env, "policy": policy, "seed": seed, **summarize(trajectories)}
    if as_json:
        _print_summary(summary)
        return
    table = Table(title=f"{policy} on {env}",
                  caption=f"{_count(summary['episodes'], 'episode')}, mean ± 95% CI per episode")
    table.add_column("metric")
    table.add_column("mean", justify="right")
    table.add_column("± 95% CI", justify="right")
    rows = [("reward", summary["reward"]), *summary["components"].items(), ("turns", summary["turns"])]
    for name, stat in rows:
        ci = stat["ci95"]  # NaN for a single episode: no interval
        table.add_row(name, f"{stat['mean']:.3f}", "—" if ci != ci else f"{ci:.3f}")
    console.print(table)


@app.command()
def compare(
    env: Annotated[str, typer.Option("--env", help="Env id (see `personagym envs`).")] = "PersonaGym/Chat-v0",
    policies: Annotated[list[str], typer.Option(
        "--policy", help="A policy to compare (two or more; the first is the baseline): a name or module:Class.")
    ] = ["generic", "tracker"],  # noqa: B006 - typer reads the default, nothing mutates it
    episodes: Annotated[int, typer.Option(help="Number of episodes per policy.", min=2)] = 100,
    seed: Annotated[int, typer.Option(help="Seed of episode 0 (episode i uses seed + i).", min=0)] = 0,
    as_json: Annotated[bool, typer.Option("--json", metavar=FLAG, help="Print the comparison as JSON.")] = False,
    backend: PolicyBackendOpt = "template",
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    max_turns: MaxTurnsOpt = None,
) -> None:
    """Run several policies on the same episodes; print each one's mean reward and paired difference from the first."""
    from rich.progress import Progress

    from personagym.eval import compare as compare_runs
    from personagym.llm.types import LLMError
    from personagym.rollout import rollout as run

    if len(policies) < 2:
        fail(f"--policy: a comparison needs two or more policies, got {len(policies)}; repeat --policy")
    twice = next((p for i, p in enumerate(policies) if p in policies[:i]), None)
    if twice is not None:
        fail(f"--policy: {twice!r} is given twice; compare each policy once")
    llm = backend_kwargs(backend, model, base_url)
    turns = turn_kwargs(max_turns)
    _check_names(env, policies)
    try:
        runs = {}
        hidden = as_json or not err_console.is_terminal
        with _engine_logs_to_stderr(bool(llm)), \
                Progress(console=err_console, transient=True, disable=hidden) as progress:
            task = progress.add_task(f"{len(policies)} policies on {env}", total=episodes * len(policies))
            for policy in policies:
                runs[policy] = []
                for t in run(env, policy, episodes, seed, **llm, **turns):
                    runs[policy].append(t)
                    progress.advance(task)
    except (ValueError, TypeError, OSError, ImportError, LLMError) as exc:
        fail(str(exc))
    result = {"env": env, "seed": seed, "episodes": episodes, **compare_runs(runs)}
    if as_json:
        _print_summary(result)
        return
    base, summaries = result["baseline"], result["policies"]
    table = Table(title=f"{len(policies)} policies on {env}",
                  caption=f"{_count(episodes, 'episode')} each, the same seeds: mean per episode (± 95% CI); the last "
                          f"row is the paired difference from {base}, * where its CI excludes 0")
    table.add_column("metric")
    for name in summaries:
        table.add_column(name, justify="right")
    table.add_row("reward", *(f"{s['reward']['mean']:.3f} ± {s['reward']['ci95']:.3f}" for s in summaries.values()))
    for component in summaries[base]["components"]:
        table.add_row(component, *(f"{s['components'][component]['mean']:.3f}" for s in summaries.values()))
    table.add_row("turns", *(f"{s['turns']['mean']:.2f}" for s in summaries.values()))
    deltas = ["—"] + [f"{d['mean']:+.3f} ± {d['ci95']:.3f}{' *' if d['beyond_ci'] else ''}"
                      for d in (s["difference"] for name, s in summaries.items() if name != base)]
    table.add_row(f"Δ reward vs {base}", *deltas)
    console.print(table)


@app.command()
def pairs(
    out: Annotated[Path, typer.Option(help="Output JSON-lines file.")],
    env: Annotated[str, typer.Option("--env", help="Env id (see `personagym envs`).")] = "PersonaGym/Chat-v0",
    policies: Annotated[list[str], typer.Option(
        "--policy", help="A policy that answers every turn (two or more): a name or module:Class.")
    ] = ["tracker", "generic"],  # noqa: B006 - typer reads the default, nothing mutates it
    lead: Annotated[str | None, typer.Option(
        help="The policy whose answers are sent (default: the first --policy).")] = None,
    episodes: Annotated[int, typer.Option(help="Number of episodes.", min=1)] = 100,
    seed: Annotated[int, typer.Option(help="Seed of episode 0 (episode i uses seed + i).", min=0)] = 0,
    max_turns: MaxTurnsOpt = None,
) -> None:
    """Preference pairs at every turn: the policies answer the same state, each on a fork of the env (JSON lines).

    The best and the worst answer by the env reward make a pair, with the fields of `export --to pairs`."""
    from rich.progress import Progress

    from personagym.data.turn_pairs import write_turn_pairs

    if len(policies) < 2:
        fail(f"--policy: pairs need two or more policies, got {len(policies)}; repeat --policy")
    twice = next((p for i, p in enumerate(policies) if p in policies[:i]), None)
    if twice is not None:
        fail(f"--policy: {twice!r} is given twice; give each policy once")
    if lead is not None and lead not in policies:
        fail(f"--lead: {lead!r} is none of the --policy values {', '.join(policies)}{did_you_mean(lead, policies)}")
    from personagym.policies.llm_policy import LLM_POLICIES

    llm = next((p for p in policies if p in LLM_POLICIES), None)
    if llm is not None:  # the policy's own message says "pass --backend", an option pairs does not have
        fail(f"--policy: {llm!r} needs an LLM backend, and pairs runs without one (template mode); pair LLM "
             "answers with `export --to pairs` of two `generate --backend ...` runs")
    _check_names(env, policies)
    check_out_file(out)
    check_json_lines_out(out)
    try:
        hidden = not err_console.is_terminal
        with warnings.catch_warnings(record=True) as caught, \
                Progress(console=err_console, transient=True, disable=hidden) as progress:
            warnings.simplefilter("always")
            task = progress.add_task(f"{len(policies)} policies on {env}", total=episodes)
            write_out(out, lambda: write_turn_pairs(env, policies, episodes, out, seed, lead,
                                                    on_episode=lambda: progress.advance(task),
                                                    **turn_kwargs(max_turns)),
                      "pair")
    except (ValueError, TypeError) as exc:
        fail(str(exc))
    for warning in caught:  # e.g. pairs with the oracle
        err_console.print(f"[yellow]warning:[/] {warning.message}", highlight=False)


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Output directory (shards, manifest.json, README.md card).")],
    personas: Annotated[int, typer.Option(help="Number of personas.", min=1)] = 100,
    episodes_per_persona: Annotated[int, typer.Option(help="Episodes per persona.", min=1)] = 1,
    env: Annotated[str, typer.Option("--env", help="Env id (see `personagym envs`).")] = "PersonaGym/Chat-v0",
    policy: Annotated[str, typer.Option(help="Policy name or module:Class.")] = "generic",
    workers: Annotated[int, typer.Option(
        help="Worker processes, 1 to 4 per CPU this process may use (more are refused); with --ray-address, the "
             "shards run at once, not bounded by this machine's CPUs.", min=1)] = 1,
    seed: Annotated[int, typer.Option(help="Root seed of the whole dataset.", min=0)] = 0,
    shard_size: Annotated[int, typer.Option(help="Personas per shard.", min=1)] = 256,
    fmt: Annotated[str, typer.Option("--format", help="Shard format: parquet or jsonl.")] = "parquet",
    executor: Annotated[str, typer.Option(
        help="Where shards run: local (processes on this machine) or ray (Ray tasks; needs personagym\\[ray]).")
    ] = "local",
    ray_address: Annotated[str | None, typer.Option(
        help="Ray cluster to connect to with --executor ray (default: start a local instance with --workers CPUs); "
             "every node must see --out.")] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", metavar=FLAG, help="Continue a run: keep committed shards.")] = False,
    backend: PolicyBackendOpt = "template",
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    max_turns: MaxTurnsOpt = None,
    value_weights: ValueWeightsOpt = "population",
) -> None:
    """Generate a sharded, resumable trajectory dataset (same seed: same content, whatever the workers)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from personagym.data.generate import GenerationError, check_workers, max_workers
    from personagym.data.generate import generate as run
    from personagym.data.stats import write_card
    from personagym.data.tally import Tally

    if fmt not in ("jsonl", "parquet"):
        fail(f"--format: unknown format {fmt!r}{did_you_mean(fmt, ('jsonl', 'parquet'))}; expected jsonl or parquet")
    if executor not in ("local", "ray"):
        fail(f"--executor: unknown executor {executor!r}{did_you_mean(executor, ('local', 'ray'))}; "
             "expected local or ray")
    if ray_address is not None and executor != "ray":
        fail(f"--ray-address: {ray_address!r} needs --executor ray")
    try:
        check_workers(workers, local=ray_address is None, name="--workers")
    except ValueError as exc:
        fail(str(exc))
    _check_names(env, [policy])
    _check_value_weights(value_weights)
    llm = backend_kwargs(backend, model, base_url)
    check_out_dir(out)
    # what the run started from, its shards checked (the first progress report): a resumed run that redid a
    # damaged shard said "nothing to generate" when counted from the manifest before the check
    held: list[int] = []
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,}"),
               TimeRemainingColumn())
    tally = Tally()  # the workers count what they write: the card reads only shards of an earlier run
    try:
        with Progress(*columns, console=err_console, transient=True, disable=not err_console.is_terminal) as bar:
            task = bar.add_task("trajectories", total=personas * episodes_per_persona)

            def report(done: int, total: int) -> None:
                if not held:
                    held.append(done)
                bar.update(task, completed=done, total=total)

            manifest = run(out, personas=personas, episodes_per_persona=episodes_per_persona, env_id=env,
                           policy=policy, seed=seed, workers=workers, shard_size=shard_size,
                           fmt=fmt, resume=resume, executor=executor,  # type: ignore[arg-type]
                           ray_address=ray_address, tally=tally, max_turns=max_turns, value_weights=value_weights,
                           **llm,  # type: ignore[arg-type]
                           progress=report)
        with err_console.status("writing the dataset card"):
            # a Ray cluster's --workers may be more than this machine's processes can be
            card = write_card(out, plots=_card_plots(), workers=min(workers, max_workers()), tally=tally)
    except GenerationError as exc:  # a failed shard, or another process writing in --out
        fail(str(exc), status=1)
    except KeyboardInterrupt:
        fail(f"interrupted: the committed shards in {out} are kept; run the same command with --resume to "
             "continue", status=130)
    except OSError as exc:  # the output directory: cannot create it, or write in it, or the disk is full
        manifest = _manifest_of(out)
        # a whole dataset found there before the run (not one this run wrote, then failed to write the card of)
        if not held and not resume and manifest is not None and _is_whole(manifest, out):
            fail(f"--out {str(out)!r} holds {_whole_dataset(manifest)}")
        fail(f"--out {str(out)!r}: {_out_error(exc, out)}{_what_is_kept(out)}")
    except (ValueError, TypeError, ImportError) as exc:
        fail(str(exc))
    if held[0] == manifest.counts["trajectories"]:
        err_console.print(f"nothing to generate: {out} already held all "
                          f"{_count(manifest.counts['trajectories'], 'trajectory', 'trajectories')} "
                          f"({_count(len(manifest.shards), 'shard')}); rewrote the card ({card.name})")
        return
    err_console.print(f"wrote {_count(manifest.counts['trajectories'], 'trajectory', 'trajectories')} in "
                      f"{_count(len(manifest.shards), 'shard')} to {out} (card: {card.name})")


def _out_error(exc: OSError, out: Path) -> str:
    """The reason of an OS error in --out, naming the file when it is not --out itself (an unreadable shard said
    only "Permission denied")."""
    if exc.filename is not None and Path(os.fspath(exc.filename)) != out:
        return os_error_message(exc)
    return exc.strerror or str(exc)


def _manifest_of(out: Path) -> Manifest | None:
    """The manifest of a generation directory, or None if it holds no readable one."""
    from personagym.data.generate import load_manifest

    try:
        return load_manifest(out)
    except (OSError, ValueError):
        return None


def _is_whole(manifest: Manifest, out: Path) -> bool:
    """Whether a generation directory is finished: every shard committed and the card written."""
    return manifest.complete and (out / "README.md").exists()


def _whole_dataset(manifest: Manifest) -> str:
    return (f"a complete dataset ({_count(len(manifest.shards), 'shard')} and the card): nothing to resume; "
            "choose another --out for a new run")


def _what_is_kept(out: Path) -> str:
    """After a failed `generate`: what of `out` is intact and how to go on ('' if nothing was committed)."""
    manifest = _manifest_of(out)
    if manifest is None:
        return ""
    if _is_whole(manifest, out):
        return f"; it holds {_whole_dataset(manifest)}"
    if manifest.complete:
        n = len(manifest.shards)
        shards = "its shard is" if n == 1 else f"all {_count(n, 'shard')} are"  # not "all 1 shard are"
        return f"; {shards} committed, only the card is missing: `personagym stats {out}` writes it"
    if manifest.shards:
        n = len(manifest.shards)
        return f"; {_count(n, 'committed shard')} {'is' if n == 1 else 'are'} intact: continue with --resume"
    return ""


def check_out_dir(out: Path) -> None:
    """Fail before any work unless `out` is a directory that can be written in, or can be made in an existing
    one (a mistyped parent made a tree of directories, at the filesystem's root even, as other --out do not)."""
    _refuse_link_loop(out, "--out")
    if out.is_symlink() and not out.exists():
        fail(f"--out: {str(out)!r} is a symbolic link to {os.readlink(out)!r}, which does not exist; expected a "
             "directory, or a path where one can be made")
    if out.exists() and not out.is_dir():
        fail(f"--out: {str(out)!r} exists and is not a directory")
    if not out.exists() and not out.parent.is_dir():
        _fail_missing_dir("--out", out.parent, "; make it first, or give a directory in an existing one")
    _check_writable(out if out.is_dir() else out.parent, "--out")


@app.command()
def stats(
    directory: Annotated[Path, typer.Argument(help="A directory made by `personagym generate`.")],
    as_json: Annotated[bool, typer.Option(
        "--json", metavar=FLAG, help="Print JSON instead of rewriting the card.")] = False,
    workers: Annotated[int, typer.Option(
        min=1, help="Processes reading the shards, 1 to 4 per CPU this process may use (more are refused).")] = 1,
) -> None:
    """Recompute a generated dataset's statistics and rewrite its README.md card."""
    from personagym.data.generate import DirectoryBusyError, check_workers
    from personagym.data.stats import dataset_stats, write_card

    try:
        check_workers(workers, name="--workers")
    except ValueError as exc:
        fail(str(exc))
    try:
        if as_json:
            result = dataset_stats(directory, workers=workers)
        else:
            card = write_card(directory, plots=_card_plots(), workers=workers)
    except DirectoryBusyError as exc:
        fail(str(exc), status=1)
    except OSError as exc:
        fail(os_error_message(exc))
    except ValueError as exc:
        fail(str(exc))
    if as_json:  # outside the try: a reader that stops reading (`| head`) is no error to report (click exits)
        _print_summary(result)
        return
    err_console.print(f"wrote {card}")


@app.command("export")
def export_cmd(
    sources: Annotated[list[Path], typer.Argument(help="Generated directories (pairs: two or more runs).")],
    to: Annotated[str, typer.Option("--to", help="chat, pki_sft, ppopt, pairs or recall.")],
    out: Annotated[Path, typer.Option(help="Output JSON-lines file.")],
    by: Annotated[str | None, typer.Option(
        "--by", help="chat only: one conversation per session, or per episode (every session, in order); "
                     "default: per episode for a policy that remembers earlier sessions (tracker, LLM), else per "
                     "session.")] = None,
) -> None:
    """Export generated trajectories for SFT, RL or preference training, or recall evaluation (JSON lines)."""
    from personagym.data.exports import CHAT_UNITS, EXPORT_KINDS, export

    if to not in EXPORT_KINDS:
        fail(f"--to: unknown export {to!r}{did_you_mean(to, EXPORT_KINDS)}; expected one of "
             f"{', '.join(EXPORT_KINDS)}")
    if by is not None and by not in CHAT_UNITS:
        fail(f"--by: unknown unit {by!r}{did_you_mean(by, CHAT_UNITS)}; expected one of {', '.join(CHAT_UNITS)}")
    if by is not None and to != "chat":
        fail(f"--by is the chat export's option; --to {to} has none")
    if to != "pairs" and len(sources) > 1:
        fail(f"--to {to} reads one generated directory, got {len(sources)}; export each to its own --out "
             "(only pairs compares two or more runs)")
    check_json_lines_out(out)
    from personagym.data.generate import load_manifest

    for source in sources:  # a missing or damaged dataset fails before the export starts (and before --out is
        try:  # checked against it: "export /tmp --out x.jsonl" said --out would overwrite the input '/tmp')
            load_manifest(source)
        except OSError as exc:
            fail(os_error_message(exc))
        except ValueError as exc:
            fail(str(exc))
    check_out_file(out, inputs=sources)
    try:
        read = sources if to == "pairs" else sources[0]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            write_out(out, lambda: export(to, read, out, by=by), "row")  # type: ignore[arg-type]
    except ValueError as exc:
        fail(str(exc))
    for warning in caught:  # e.g. a chat export of an oracle run
        err_console.print(f"[yellow]warning:[/] {warning.message}", highlight=False)


def _require_pyarrow(out: Path) -> None:
    """Fail in one line, naming --out, unless pyarrow (an optional extra) is installed."""
    from personagym.checks import check_installed

    try:
        check_installed("pyarrow", "parquet", f"--out {str(out)!r}: Parquet", ", or write .jsonl")
    except ImportError as exc:
        fail(str(exc))


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _card_plots() -> bool:
    """Whether the dataset card gets its PNG plots: they need matplotlib (the datasets extra).  Without it the card
    is written without them, and a warning says so: a core install's card silently lacked the plots it promises."""
    if _has("matplotlib"):
        return True
    err_console.print("[yellow]warning:[/] the dataset card is written without its plots: matplotlib is not "
                      "installed (pip install 'personagym\\[datasets]')", highlight=False)  # \[: no rich tag
    return False


@app.command("import")
def import_cmd(
    files: Annotated[list[Path], typer.Argument(help="PPOpt / PersonaAtlas interaction JSON files.")],
    source: Annotated[str, typer.Option("--from", help="Source format: ppopt.")] = "ppopt",
    out: Annotated[Path, typer.Option(help="Output trajectories (JSON lines).")] = Path("imported.jsonl"),
) -> None:
    """Turn PPOpt conversation files into trajectory records (read them with personagym.data.read_jsonl)."""
    from personagym.data.ppopt_import import import_conversations
    from personagym.data.trajectories import write_jsonl

    if source != "ppopt":
        fail(f"--from: unknown source {source!r}{did_you_mean(source, ('ppopt',))}; expected ppopt")
    check_out_file(out, inputs=files)
    check_json_lines_out(out)
    result = import_conversations(distinct_files(files))
    for f in result.files:
        if f["status"] == "failed":
            err_console.print(f"[red]failed[/] {escape(str(f['file']))}: {escape(str(f['reason']))}", highlight=False)
        else:
            err_console.print(f"imported {f['file']} -> {f['trajectory_id']} ({f['turns']} turns)", highlight=False)
    if result.trajectories:
        write_out(out, lambda: write_jsonl(result.trajectories, out), "trajectory", "trajectories")
    if result.failed:
        raise typer.Exit(1)


@app.command()
def bench(as_json: JsonOpt = False) -> None:
    """Measure the speed figures (import, taxonomy load, personas/s, user turns/s, env steps/s)."""
    from personagym.bench import run_all

    with err_console.status("measuring") as status:
        results = run_all(progress=lambda stage: status.update(f"measuring {stage}"))
    if as_json:
        print(json.dumps(results, indent=2))
        return
    table = Table(title="PersonaGym benchmarks (one core)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in results.items():
        table.add_row(key, f"{value:,}" if isinstance(value, int | float) else str(value))
    console.print(table)


def _given(exc: BaseException) -> str:
    """' (got VALUE)' for a usage error of an option's type or range, which Typer's message does not quote."""
    cause = exc.__cause__  # Typer checks an option's value with pydantic and raises from its error
    if not isinstance(cause, ValidationError):
        return ""
    value = cause.errors()[0].get("input")
    return f" (got {value!r})"


def _command() -> Any:
    """The app as the click command `main` runs, every --help shown as the flag it is: Typer labels it with its
    type ("--help <bool>"), as if it took a value."""
    command = typer.main.get_command(app)
    stack = [command]
    while stack:
        cmd = stack.pop()
        if (help_option := cmd.get_help_option(cmd.context_class(cmd))) is not None:
            help_option.metavar = FLAG
        stack.extend(getattr(cmd, "commands", {}).values())
    return command


def main() -> None:
    """Entry point: run the app, turning input errors into one clear line.

    Typer would frame its own errors (an option's type or range) in a box;
    here they are one line, as every other input error is.
    """
    from personagym.simulators.persona import SchemaError
    from personagym.simulators.taxonomy import TaxonomyError

    # a policy given as module:Class is looked for in the current folder too, as `python -m` would: the
    # console script's own folder is the only one Python adds
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    # click's exception classes as this Typer raises them (recent Typers vendor click)
    usage_error = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
    no_args = getattr(sys.modules[usage_error.__module__], "NoArgsIsHelpError", ())
    try:
        status = _command()(standalone_mode=False)
    except no_args as exc:  # a group or command given nothing: its help, which is the error's message ...
        if help_text := exc.format_message():  # ... unless Typer's rich help printed itself making the error
            print(help_text)
        sys.exit(2)
    except usage_error as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        err_console.print(f"[bold red]error:[/] {escape(exc.format_message() + _given(exc))}{hint}",
                          highlight=False)
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("interrupted", highlight=False)
        sys.exit(130)
    except Terminated:
        err_console.print("terminated", highlight=False)
        sys.exit(TERMINATED_STATUS)
    except (SchemaError, TaxonomyError) as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    # Ctrl-C, which recent Typers return as Exit(130) outside standalone mode: it said nothing (but generate's
    # "interrupted: the committed shards ... are kept" was followed by a bare "interrupted")
    if status == 130 and status not in _EXPLAINED:
        err_console.print("interrupted", highlight=False)
    sys.exit(status if isinstance(status, int) else 0)


if __name__ == "__main__":
    main()
