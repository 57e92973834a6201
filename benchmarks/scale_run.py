"""The large-run figures: `personagym generate` on N trajectories, wall time and peak RSS of every process.

Runs the CLI exactly as a user would (a subprocess, dataset card included) into
a temporary directory, samples the resident memory of its whole process tree
(the CLI and its workers) once a second from /proc, and reports the time to the
last committed shard (the manifest's final write), the total including the
dataset card, the bytes on disk and the peaks.  Linux only (/proc).  Figures
only: tests never assert timings.  Appends to `benchmarks/scale_results.json`.

Run: `.venv/bin/python benchmarks/scale_run.py --trajectories 1000000 --workers 2`
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS_PATH = Path(__file__).with_name("scale_results.json")


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in Path(f"/proc/{p}/task/{task}/children").read_text().split()]
        except OSError:  # the process ended meanwhile
            pass
    return out


def rss_bytes(pid: int) -> int:
    """Resident memory of one process (0 once it has ended)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure(args: argparse.Namespace, out: Path) -> dict:
    """One CLI run into `out`, sampled every second."""
    cli = [str(Path(sys.executable).with_name("personagym")), "generate", "--out", str(out),
           "--personas", str(args.trajectories // args.episodes_per_persona),
           "--episodes-per-persona", str(args.episodes_per_persona), "--workers", str(args.workers),
           "--format", args.format, "--env", args.env_id, "--policy", args.policy]
    start = time.time()
    proc = subprocess.Popen(cli, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak_tree = peak_one = 0
    while proc.poll() is None:
        sizes = [rss_bytes(p) for p in process_tree(proc.pid)]
        peak_tree, peak_one = max(peak_tree, sum(sizes)), max(peak_one, *sizes)
        time.sleep(1.0)
    total = time.time() - start
    if proc.returncode != 0:
        raise SystemExit(f"personagym generate failed ({proc.returncode}): {proc.stderr.read()[-2000:]}")
    generating = (out / "manifest.json").stat().st_mtime - start
    size = sum(p.stat().st_size for p in out.glob("shard-*"))
    return {
        "trajectories": args.trajectories, "episodes_per_persona": args.episodes_per_persona,
        "workers": args.workers, "format": args.format,
        "env_id": args.env_id, "policy": args.policy,
        "generate_seconds": round(generating, 1), "trajectories_per_s": round(args.trajectories / generating, 1),
        "card_seconds": round(total - generating, 1), "total_seconds": round(total, 1),
        "gigabytes_on_disk": round(size / 1e9, 2),
        "peak_rss_all_processes_mib": round(peak_tree / 2**20), "peak_rss_one_process_mib": round(peak_one / 2**20),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trajectories", type=int, default=1_000_000)
    parser.add_argument("--episodes-per-persona", type=int, default=1,
                        help="episodes per persona (PersonaAtlas has about 5); must divide --trajectories")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--format", default="jsonl", choices=["jsonl", "parquet"])
    parser.add_argument("--env-id", default="PersonaGym/Chat-v0")
    parser.add_argument("--policy", default="generic")
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: a temporary directory)")
    args = parser.parse_args()
    if args.episodes_per_persona < 1 or args.trajectories % args.episodes_per_persona:
        parser.error(f"--episodes-per-persona {args.episodes_per_persona} must be >= 1 and divide "
                     f"--trajectories {args.trajectories}")
    root = Path(tempfile.mkdtemp(prefix="personagym-scale-", dir=args.dir))
    try:
        result = measure(args, root / "run")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result["machine"] = f"{platform.machine()} python {platform.python_version()}, {os.cpu_count()} CPUs"
    runs = json.loads(RESULTS_PATH.read_text()) if RESULTS_PATH.exists() else []
    RESULTS_PATH.write_text(json.dumps([*runs, result], indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
