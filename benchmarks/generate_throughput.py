"""Throughput of sharded dataset generation (`personagym.data.generate.generate`), in trajectories/s.

Wall time of whole runs, start-up, validation, worker spawn and the manifest
included, per worker count and file format.  Figures only; tests never assert
timings.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from personagym.data.generate import DEFAULT_SHARD_SIZE, generate


def measure(trajectories: int, workers: int, fmt: str, env_id: str, policy: str, shard_size: int) -> dict:
    """One run of `trajectories` personas x 1 episode; returns its configuration and rate."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        manifest = generate(Path(tmp) / "run", personas=trajectories, episodes_per_persona=1, env_id=env_id,
                            policy=policy, workers=workers, shard_size=shard_size, fmt=fmt)  # type: ignore[arg-type]
        seconds = time.perf_counter() - start
        size = sum(s.bytes for s in manifest.shards)
    return {"workers": workers, "format": fmt, "trajectories": trajectories, "shards": len(manifest.shards),
            "seconds": round(seconds, 2), "trajectories_per_s": round(trajectories / seconds, 1),
            "mb": round(size / 1e6, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trajectories", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--formats", nargs="+", default=["parquet", "jsonl"])
    parser.add_argument("--env-id", default="PersonaGym/Chat-v0")
    parser.add_argument("--policy", default="generic")
    parser.add_argument("--shard-size", type=int, default=DEFAULT_SHARD_SIZE)
    args = parser.parse_args()
    results = [measure(args.trajectories, w, f, args.env_id, args.policy, args.shard_size)
               for f in args.formats for w in args.workers]
    print(json.dumps({"machine": f"{platform.machine()} python {platform.python_version()}",
                      "env_id": args.env_id, "policy": args.policy, "results": results}, indent=2))


if __name__ == "__main__":
    main()
