"""Make a low-resolution version of a video, image or folder of frames (bicubic or real-world degradation).

    python scripts/degrade.py --input clip.mp4 --output clip_lr.mp4                      # real-world x4, seed 0
    python scripts/degrade.py --input clip.mp4 --output clip_bi.mp4 --mode bicubic
    python scripts/degrade.py --input frames/ --output lr_frames/ --config configs/degradation/realbasicvsr_dove.yaml

Writes the LR video (same fps, audio copied); with --compare also <output stem>_compare.png (HR | LR upscaled
nearest) beside it.
Settings: fastvsr.data.degradations.config.DegradationConfig defaults (DOVE's), then --config files, then the
flags, then trailing key=value overrides. See docs/data.md.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from fastvsr.cli import add_config_arguments, config_overrides, print_config, run_main
from fastvsr.config import load_config
from fastvsr.data.degradations.config import DegradationConfig, DegradationMode
from fastvsr.data.degradations.files import degrade_file


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Degrade a video, image or folder of frames to low resolution.")
    parser.add_argument("--input", required=True, help="video file, image file or folder of frames")
    parser.add_argument("--output", required=True, help="LR output (.mp4/.mkv/.mov, .png, or a folder without suffix)")
    parser.add_argument("--mode", choices=[m.value for m in DegradationMode], help="degradation (default realworld)")
    parser.add_argument("--scale", type=int, help="downscale factor (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the degradation parameters and noise")
    add_config_arguments(parser, required=False, files_help="configs/degradation/*.yaml files",
                         overrides_help="config overrides, e.g. final.sinc.prob=0")
    parser.add_argument("--chunk", type=int, default=32, help="frames degraded at a time (codec restarts per chunk)")
    parser.add_argument("--compare", action="store_true", help="also write <output stem>_compare.png (HR | LR)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    flags = [f"{key}={value}" for key, value in (("mode", args.mode), ("scale", args.scale)) if value is not None]
    cfg = load_config(DegradationConfig, args.config, flags + config_overrides(args))
    if args.print_config:
        print_config(cfg)
        return 0
    lr, png, note = degrade_file(args.input, args.output, cfg, seed=args.seed, chunk_frames=args.chunk,
                                 overwrite=args.overwrite, progress=not args.quiet, compare=args.compare)
    if note:
        print(note)
    for path in (lr, png):
        if path is not None:
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    run_main(main)
