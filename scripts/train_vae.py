"""Train stage 0 (f8 VAE reconstruction) or stage 1 (f16 decoder, lower-bound-guided) of FastVSR.

    python scripts/train_vae.py --config configs/train/vae_f8_tiny.yaml train.max_steps=200
    python scripts/train_vae.py --config configs/train/vae_f16_tiny.yaml model.vae.pretrained=runs/vae_f8_tiny/export
    python scripts/train_vae.py --config configs/train/vae_f16_tiny.yaml model.vae.pretrained=runs/vae_f8_tiny/export \
        --resume                                                                     # continue exactly
    accelerate launch --multi_gpu --num_processes 2 --num_machines 1 --mixed_precision no \
        --dynamo_backend no scripts/train_vae.py --config ...                        # 2 processes (CPU: gloo)

Settings: fastvsr.train.vae.VAETrainConfig, then the YAML files, then key=value overrides. See docs/training.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastvsr.cli import run_main


def main(argv: Sequence[str] | None = None) -> int:
    from fastvsr.train.cli import training_main
    from fastvsr.train.vae import VAETrainConfig, train_vae

    return training_main(argv, "Train the f8 VAE (stage 0) or the f16 decoder (stage 1).", VAETrainConfig,
                         train_vae)


if __name__ == "__main__":
    run_main(main)
