"""Compare the f16 decoder's lower-bound modes (off / annealed / hinge) on the same budget and seed.

    python scripts/ablate_lower_bound.py --config configs/train/vae_f16_ablation.yaml \
        model.vae.pretrained=runs/vae_f8_small/export                 # figure: <train.output_dir>/lower_bound_ablation.png

Trains stage 1 once per mode into <train.output_dir>/<mode>, writes <train.output_dir>/ablation.json and the
curves (train loss vs the floor's error, lambda, validation PSNR vs the floor's PSNR) as a PNG figure.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from fastvsr.cli import add_config_arguments, config_overrides, print_config, run_main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Ablate the lower-bound-guided objective of the f16 decoder.")
    add_config_arguments(parser)
    parser.add_argument("--figure", help="PNG to write (default: <train.output_dir>/lower_bound_ablation.png)")
    parser.add_argument("--modes", default="off,annealed,hinge", help="comma-separated modes to compare")
    args = parser.parse_args(argv)
    from fastvsr.config import load_config
    from fastvsr.train.ablation import ablate_lower_bound
    from fastvsr.train.vae import VAETrainConfig

    cfg = load_config(VAETrainConfig, args.config, config_overrides(args))
    if args.print_config:
        print_config(cfg)
        return 0
    figure = args.figure or f"{cfg.train.output_dir}/lower_bound_ablation.png"
    results = ablate_lower_bound(cfg, figure, [m.strip() for m in args.modes.split(",") if m.strip()])
    print(f"{'mode':<10}{'val PSNR':>10}{'val SSIM':>10}{'floor PSNR':>12}{'final rec':>11}")
    for mode, r in results.items():
        print(f"{mode:<10}{r['val_psnr']:>10.3f}{r['val_ssim']:>10.4f}{r['floor_psnr']:>12.3f}{r['final_rec']:>11.4f}")
    print(f"figure: {figure}")
    return 0


if __name__ == "__main__":
    run_main(main)
