"""Train the reference CNN: a plain 2D x4 SR network at LR resolution on the default model's degraded pairs,
the yardstick ``scripts/model_report.py --reference`` puts beside the f16 model.

    python scripts/train_reference.py --config configs/default_model/reference_cnn.yaml
    python scripts/train_reference.py --config configs/default_model/reference_cnn.yaml --resume   # continue exactly

Settings: fastvsr.train.reference.ReferenceTrainConfig, then the YAML files, then key=value overrides. The
recipe runs the same config as its optional stage: python scripts/train_default_model.py --stages reference_cnn
"""

from __future__ import annotations

from collections.abc import Sequence

from fastvsr.cli import run_main


def main(argv: Sequence[str] | None = None) -> int:
    from fastvsr.train.cli import training_main
    from fastvsr.train.reference import ReferenceTrainConfig, train_reference

    return training_main(argv, "Train the reference CNN (plain x4 SR at LR resolution).", ReferenceTrainConfig,
                         train_reference)


if __name__ == "__main__":
    run_main(main)
