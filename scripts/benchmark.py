"""Table-2 style benchmark: MACs (two conventions), parameters, latency, stage breakdown, peak memory, frames/s
and the f8/f16 ratios of the pipeline variants, measured side by side.

    python scripts/benchmark.py --config configs/bench/tiny.yaml            # CPU latency, tiny models
    python scripts/benchmark.py --config configs/bench/paper.yaml           # paper scale (MACs on meta)
    python scripts/benchmark.py --config configs/bench/tiny.yaml timing.repeats=9 --out runs/bench/mine
    python scripts/benchmark.py --pipeline --config configs/bench/default_cpu.yaml   # shipped model, tiling

Prints the tables and writes report.md, report.json and report.png into --out (default runs/bench/<name>/).
Settings: fastvsr.bench.config.BenchConfig; with --pipeline fastvsr.bench.config.PipelineBenchConfig (the
inference pipeline on a saved model and a real clip: tile plans and the allocator setting, report.md and
report.json). See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from fastvsr.atomic import check_output_path
from fastvsr.bench.config import BenchConfig, PipelineBenchConfig
from fastvsr.bench.report import REPORT_FILES, print_report, write_report
from fastvsr.bench.run import run_benchmark
from fastvsr.cli import add_config_arguments, config_overrides, print_config, run_main
from fastvsr.config import load_config

DEFAULT_OUT = Path("runs/bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Benchmark the f8 baseline against FastVSR's f16 pipeline.")
    add_config_arguments(parser)
    parser.add_argument("--out", help="output folder (default: runs/bench/<name>/)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--pipeline", action="store_true", help="the config is a pipeline benchmark (a saved model "
                        "through the inference pipeline, e.g. configs/bench/default_cpu.yaml)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.pipeline:
        return pipeline_main(args)
    cfg = load_config(BenchConfig, args.config, config_overrides(args))
    if args.print_config:
        print_config(cfg)
        return 0
    out = Path(args.out) if args.out else DEFAULT_OUT / cfg.name
    check_output_path(out / REPORT_FILES[0], overwrite=True)  # fail before the run, not after it
    report = run_benchmark(cfg, progress=not args.quiet)
    print_report(report)
    for path in write_report(report, out):
        print(f"wrote {path}")
    return 0


def pipeline_main(args: argparse.Namespace) -> int:
    """``--pipeline``: :func:`fastvsr.bench.pipeline.run_pipeline_benchmark`, its table and report files."""
    from fastvsr.bench.pipeline import print_pipeline_report, run_pipeline_benchmark, write_pipeline_report

    cfg = load_config(PipelineBenchConfig, args.config, config_overrides(args))
    if args.print_config:
        print_config(cfg)
        return 0
    out = Path(args.out) if args.out else DEFAULT_OUT / cfg.name
    check_output_path(out / REPORT_FILES[0], overwrite=True)
    report = run_pipeline_benchmark(cfg, progress=not args.quiet)
    print_pipeline_report(report)
    for path in write_pipeline_report(report, out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    run_main(main)
