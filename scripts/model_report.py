"""Model report of the default model: x4 on held-out clips, bicubic and real-world LR, against interpolation.

    python scripts/model_report.py                                   # shipped f16 model vs the trained f8 twin
    python scripts/model_report.py --model runs/default_model/stage2_f16/export --frames 9

Writes to --out (default figs/default_model): metrics.json and metrics.md (PSNR / SSIM / E*warp[dis] per clip,
LR kind and method, with means and the gain over bicubic, and the f8/f16 CPU latency), crops_<clip>_<lr>.png
(middle-frame crops) and curves.png (training curves of every stage). What it measures:
fastvsr.recipes.model_report.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from fastvsr.cli import run_main


def main(argv: Sequence[str] | None = None) -> int:
    from fastvsr.recipes.model_report import ReportConfig, write_model_report

    defaults = ReportConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=defaults.model, help="the f16 model folder")
    parser.add_argument("--twin", type=Path, default=defaults.twin,
                        help="the f8 twin folder (scripts/train_default_model.py's twin stage)")
    parser.add_argument("--heldout", type=Path, default=defaults.heldout,
                        help="folder of held-out clips (frame folders), as scripts/train_default_model.py writes")
    parser.add_argument("--runs", type=Path, default=defaults.runs, help="training runs (curves)")
    parser.add_argument("--realworld", default=defaults.realworld)
    parser.add_argument("--frames", type=int, default=17, help="frames of each held-out clip")
    parser.add_argument("--crop", type=int, default=96, help="crop size of the comparison PNGs (HR pixels)")
    parser.add_argument("--latency-frames", type=int, default=5)
    parser.add_argument("--latency-repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=defaults.out)
    args = parser.parse_args(argv)
    print(write_model_report(ReportConfig(**vars(args))), end="")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    run_main(main)
