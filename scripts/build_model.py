"""Assemble a model folder (what ``scripts/infer.py --model`` loads) from a model config.

    python scripts/build_model.py --config configs/models/fastvsr_paper.yaml \
        vae.pretrained=CogVideoX1.5-5B/vae denoiser.pretrained=DOVE/transformer decoder.pretrained=STAGE1_EXPORT \
        --output models/fastvsr_paper
    python scripts/build_model.py --config configs/models/fastvsr_tiny.yaml --output models/untrained_tiny

Parts with a local ``pretrained`` folder are loaded from it; an f16 decoder without one is initialised from the
VAE's f8 decoder (every weight copied); everything else is randomly initialised (seeded). Nothing is downloaded.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from fastvsr.cli import add_config_arguments, config_overrides, print_config, run_main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build a model from a config and save it as a model folder.")
    add_config_arguments(parser, files_help="configs/models/*.yaml files",
                         overrides_help="ModelConfig overrides, e.g. vae.pretrained=DIR")
    parser.add_argument("--output", required=True, help="model folder to write")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random initialisation")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    args = parser.parse_args(argv)

    import torch

    from fastvsr.atomic import check_output_path
    from fastvsr.config import load_config
    from fastvsr.models import ModelConfig, build_model

    cfg = load_config(ModelConfig, args.config, config_overrides(args))
    if args.print_config:
        print_config(cfg)
        return 0
    out = check_output_path(args.output, overwrite=args.overwrite)
    torch.manual_seed(args.seed)
    model = build_model(cfg)
    model.save_pretrained(out)
    params = sum(p.numel() for p in model.parameters())
    print(f"wrote {out} ({model.kind}, {params / 1e6:.2f} M parameters)")
    return 0


if __name__ == "__main__":
    run_main(main)
