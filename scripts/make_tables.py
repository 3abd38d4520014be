"""Lay evaluation results out like FastVSR's Table 1, next to the published numbers.

    python scripts/make_tables.py --results results/*/summary.json --out tables/
    python scripts/make_tables.py --results results/udm10_ours/summary.json --no-published

Rows are dataset x metric (arrows show which direction is better), columns are methods; the best value of each
row is bold. Published columns (FastVSR Table 1 and DOVE) are marked with a dagger. Writes <out>/table1.md and
<out>/table1.tex (booktabs) and prints the markdown. See docs/evaluation.md.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from fastvsr.atomic import atomic_path, check_output_path
from fastvsr.cli import run_main
from fastvsr.metrics.tables import make_tables


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Make a Table-1 style markdown/LaTeX table from summary.json files.")
    parser.add_argument("--results", nargs="+", required=True, metavar="JSON", help="summary.json files")
    parser.add_argument("--out", default="tables", help="output folder (default: tables)")
    parser.add_argument("--no-published", action="store_true", help="leave out the published reference columns")
    parser.add_argument("--overwrite", action="store_true", help="replace existing tables")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    targets = [check_output_path(Path(args.out) / name, args.overwrite) for name in ("table1.md", "table1.tex")]
    texts = make_tables(args.results, include_published=not args.no_published)
    for target, text in zip(targets, texts, strict=True):
        with atomic_path(target) as tmp:
            tmp.write_text(text)
    print(texts[0])
    print("\n".join(f"wrote {t}" for t in targets))
    return 0


if __name__ == "__main__":
    run_main(main)
