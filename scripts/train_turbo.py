"""Train TurboVSR: flow matching of the factorised tasks, then shortcut conversion for few-step sampling.

    python scripts/train_turbo.py --config configs/turbovsr/flow_tiny.yaml model.vae.pretrained=runs/turbo_ae/export
    python scripts/train_turbo.py --config configs/turbovsr/shortcut_tiny.yaml   # from the flow export
    python scripts/train_turbo.py --config configs/turbovsr/flow_tiny.yaml allow_random_vae=true --resume
    accelerate launch --multi_gpu --num_processes 2 --num_machines 1 --mixed_precision no \
        --dynamo_backend no scripts/train_turbo.py --config ...

Settings: fastvsr.train.turbo.TurboTrainConfig, then the YAML files, then key=value overrides.
The export folder is a TurboVSRModel (see docs/turbovsr.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from fastvsr.cli import run_main


def main(argv: Sequence[str] | None = None) -> int:
    from fastvsr.train.cli import training_main
    from fastvsr.train.turbo import TurboTrainConfig, train_turbo

    return training_main(argv, "Train TurboVSR (flow stage, then shortcut stage).", TurboTrainConfig, train_turbo)


if __name__ == "__main__":
    run_main(main)
