"""Model report: x4 on held-out clips for clean bicubic and real-world LR, against interpolation (and a twin).

    python scripts/model_report.py                                   # the shipped model on the held-out clips
    python scripts/model_report.py --model runs/default_model/stage2_f16/export --twin runs/default_model/twin/export
    python scripts/model_report.py --model my_model --clips my_clip.mp4 --frames 9 --out runs/report
    python scripts/model_report.py --reference runs/default_model/reference_cnn/export   # beside a plain x4 CNN

Clips default to the recipe's held-out clips (runs/default_model/data/heldout) when they exist, else the
held-out test clip of the repository (no download). Writes metrics.json and metrics.md (PSNR / SSIM /
E*warp[dis] per clip, LR kind and method, the gain over bicubic, and the f8/f16 CPU latency with --twin) and
crops_<clip>_<lr>.png into --out. What it measures: fastvsr.recipes.model_report.
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
    parser.add_argument("--model", type=Path, default=defaults.model, help="model folder (default: the shipped one)")
    parser.add_argument("--twin", type=Path, help="its f8 twin folder (scripts/train_default_model.py's twin stage)")
    parser.add_argument("--reference", type=Path,
                        help="a reference CNN folder (scripts/train_reference.py's export), scored beside the model")
    parser.add_argument("--clips", type=Path, nargs="+", default=[], help="clips, or folders of clips")
    parser.add_argument("--frames", type=int, default=defaults.frames, help="frames of each clip")
    parser.add_argument("--crop", type=int, default=defaults.crop, help="crop size of the comparison PNGs (HR px)")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seed of the degradations")
    parser.add_argument("--latency-repeats", type=int, default=defaults.latency_repeats,
                        help=f"timed runs of the f16 / twin latency row, median taken (default {defaults.latency_repeats})")
    parser.add_argument("--out", type=Path, default=defaults.out, help=f"output folder (default {defaults.out})")
    args = parser.parse_args(argv)
    print(write_model_report(ReportConfig(**vars(args))), end="")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    run_main(main)
