"""Run every PersonaGym benchmark and save the figures as JSON (`make bench`).

The figures quoted in the README come from this script on the project's
machine; tests never assert timings.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from personagym.bench import run_all


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results.json"),
                        help="where to write the figures (JSON)")
    args = parser.parse_args()
    results = run_all()
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
