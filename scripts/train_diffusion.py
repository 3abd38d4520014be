"""Train stage 2 of FastVSR: the one-step denoiser between the frozen f8 encoder and the frozen f16 decoder.

    python scripts/train_diffusion.py --config configs/train/diffusion_tiny.yaml \
        model.vae.pretrained=runs/vae_f8_tiny/export model.decoder.pretrained=runs/vae_f16_tiny/export
    python scripts/train_diffusion.py --config configs/train/diffusion_tiny.yaml allow_random_vae=true \
        latent_steps=100                                                    # smoke run on a random VAE
    python scripts/train_diffusion.py --config configs/train/diffusion_tiny.yaml allow_random_vae=true --resume
    accelerate launch --multi_gpu --num_processes 2 --num_machines 1 --mixed_precision no \
        --dynamo_backend no scripts/train_diffusion.py --config ...

Settings: fastvsr.train.diffusion.DiffusionTrainConfig, then the YAML files, then key=value overrides.
The export folder is a VSRModel the inference CLI loads. See docs/training.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastvsr.cli import run_main


def main(argv: Sequence[str] | None = None) -> int:
    from fastvsr.train.cli import training_main
    from fastvsr.train.diffusion import DiffusionTrainConfig, train_diffusion

    return training_main(argv, "Train the one-step denoiser (stage 2).", DiffusionTrainConfig, train_diffusion)


if __name__ == "__main__":
    run_main(main)
