"""The benchmark's command line: `python -m bench generate OUT_DIR ...` writes a synthetic
source; `python -m bench run` runs the benchmark."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="write a synthetic source and its expected counts")
    gen.add_argument("out_dir", type=Path)
    gen.add_argument("--songs", type=int, default=2000, help="song files (default 2000)")
    gen.add_argument("--events", type=int, default=100_000, help="log events (default 100000)")
    gen.add_argument("--days", type=int, default=30, help="daily log files from 2018-11-01 (default 30)")
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--match-share", type=float, default=0.3, help="share of plays of a generated song (default 0.3)")
    bench = commands.add_parser("run", help="run the benchmark and print its figures")
    bench.add_argument(
        "--only", nargs="+", choices=["sample", "100k", "1m", "1m-5k", "5m"], help="datasets to run (default: all)"
    )
    bench.add_argument("--repeat", type=int, default=3, help="runs per dataset; figures are their medians (default 3)")
    args = parser.parse_args(argv)
    if args.command == "run":
        from bench.run import main as run_benchmark

        return run_benchmark(args.only, args.repeat)
    if args.command == "generate":
        from bench.generate import generate

        counts = generate(args.out_dir, args.songs, args.events, args.days, args.seed, args.match_share)
        json.dump(counts, sys.stdout, indent=2)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
