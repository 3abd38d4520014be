"""Score restored videos with the paper's metrics (DOVE / FastVSR protocol).

    python scripts/evaluate.py --pred out/udm10 --gt data/UDM10/GT --out results/udm10_fastvsr \
        --method FastVSR --dataset UDM10 --weights-dir ~/fastvsr-weights
    python scripts/evaluate.py --pred restored.mp4 --gt gt_frames/ --metrics psnr,ssim,ewarp
    python scripts/evaluate.py --pred out/videolq --metrics clipiqa,musiq,niqe,dover,ewarp   # no GT: NR only

--pred / --gt: one clip (video file or folder of frames) each, or folders of clips matched by name. A pred and
its gt must match in size (else --crop topleft|center) and frame count (else --truncate). Writes
<out>/per_video.csv and <out>/summary.json (means over videos, missing metrics and why). Settings come from
fastvsr.metrics.config.EvalConfig, then --config YAML files (configs/eval/), then key=value overrides, then the
flags. See docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path

from fastvsr.cli import add_config_arguments, config_overrides, print_config, run_main
from fastvsr.config import load_config
from fastvsr.errors import ConfigError
from fastvsr.metrics import CropMode, EvalConfig, evaluate_paths, result_paths, write_results


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Evaluate restored videos (PSNR, SSIM, LPIPS, ..., E*warp).")
    parser.add_argument("--pred", required=True, help="restored clip, or folder of restored clips")
    parser.add_argument("--gt", help="ground-truth clip or folder (omit for no-reference metrics only)")
    parser.add_argument("--metrics", help="comma-separated metric names, e.g. psnr,ssim,lpips,ewarp")
    parser.add_argument("--out", default="results/eval", help="output folder (default: results/eval)")
    parser.add_argument("--weights-dir", help="metric weights folder in TORCH_HOME layout (see docs/evaluation.md; "
                                              "fill it with scripts/install_metric_weights.py)")
    parser.add_argument("--device", help="torch device for learned metrics and RAFT (cpu, cuda)")
    parser.add_argument("--method", help="method name for the tables (default: the --pred name)")
    parser.add_argument("--dataset", help="dataset name for the tables (default: the --gt name, or 'custom')")
    parser.add_argument("--crop", choices=[CropMode.TOPLEFT.value, CropMode.CENTER.value],
                        help="when a prediction and its ground truth differ in size, crop both to the common size "
                             "from the top-left corner or the centre (default: stop with an error)")
    parser.add_argument("--truncate", action="store_true", default=None,
                        help="when they differ in frame count, score the common first frames (default: stop "
                             "with an error)")
    add_config_arguments(parser, required=False, files_help="configs/eval/*.yaml files",
                         overrides_help="EvalConfig overrides, e.g. max_frames=8")
    parser.add_argument("--overwrite", action="store_true", help="replace existing result files")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cfg = load_config(EvalConfig, args.config, config_overrides(args))
    flags = {"weights_dir": args.weights_dir, "device": args.device, "truncate": args.truncate,
             "crop": CropMode(args.crop) if args.crop else None,
             "metrics": [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None}
    try:
        cfg = dataclasses.replace(cfg, **{field: value for field, value in flags.items() if value is not None})
    except ValueError as err:
        raise ConfigError(f"invalid option: {err}") from None
    if args.print_config:
        print_config(cfg)
        return 0
    result_paths(args.out, overwrite=args.overwrite)  # fail on an existing output before any work

    method = args.method or Path(args.pred).stem
    dataset = args.dataset or (Path(args.gt).stem if args.gt else "custom")
    results = evaluate_paths(cfg, args.pred, args.gt, method=method, dataset=dataset, progress=not args.quiet)
    csv_path, json_path = write_results(results, args.out, overwrite=args.overwrite)

    for name, value in results.means().items():
        print(f"{name:>12s}  {'n/a' if math.isnan(value) else f'{value:.4f}'}")
    for name, reason in results.missing.items():
        print(f"{name:>12s}  missing: {reason}")
    for note in results.notes:
        print(f"note: {note}")
    print(f"wrote {csv_path}\nwrote {json_path}")
    return 0


if __name__ == "__main__":
    run_main(main)
