"""The GPU check: paper-scale inference of the f8 baseline and FastVSR side by side, and stage-1 training steps,
random weights in bf16 (fastvsr.recipes.gpu_check). Prints one table; writes gpu_check.json and gpu_check.md.

    bash scripts/gpu_check.sh                       # on a CUDA machine (about 8 minutes or less on one GPU)
    python scripts/gpu_check.py --config configs/bench/gpu_check_tiny.yaml --out runs/gpu_check_tiny   # CPU
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from fastvsr.cli import add_config_arguments, config_overrides, print_config, run_main

ROOT = Path(__file__).resolve().parent.parent


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_config_arguments(parser, required=False, files_help="configs/bench/gpu_check*.yaml (default: gpu_check.yaml)",
                         overrides_help="GpuCheckConfig overrides, e.g. training.steps=4")
    parser.add_argument("--out", type=Path, default=Path("runs/gpu_check"), help="output folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)

    from fastvsr.atomic import check_output_path
    from fastvsr.config import load_config
    from fastvsr.recipes.gpu_check import RESULT_FILE, GpuCheckConfig, check_device, render_table, run_gpu_check

    cfg = load_config(GpuCheckConfig, args.config or [ROOT / "configs/bench/gpu_check.yaml"], config_overrides(args))
    if args.print_config:
        print_config(cfg)
        return 0
    check_device(cfg)
    check_output_path(args.out / RESULT_FILE, overwrite=True)
    result = run_gpu_check(cfg, ROOT, args.out, progress=not args.quiet)
    print(render_table(result), end="")
    print(f"wrote {args.out / RESULT_FILE}")
    return 0


if __name__ == "__main__":
    run_main(main)
