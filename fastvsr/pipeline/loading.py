"""Load a saved restoration model for inference (local folders only; nothing is downloaded)."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from fastvsr.errors import WeightsMissingError
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.device import prepare_model
from fastvsr.pipeline.profile import stage

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "weights" / "default"
"""The model shipped inside the package (``fastvsr/weights/default``), used when no folder is given."""


def load_inference_model(folder: str | Path | None, cfg: InferConfig) -> nn.Module:
    """Load a saved model folder of any kind and prepare it for ``cfg`` (device, dtype, compile).

    Args:
        folder: the model folder (``vae/``, ``decoder/``, ``denoiser/``, ``fastvsr_model.json``); ``None``
            means :data:`DEFAULT_MODEL_DIR`.

    Raises:
        WeightsMissingError: the folder or its files are missing.
    """
    from fastvsr.models.bundle import load_model  # heavy import, only when a model is loaded

    path = Path(folder) if folder is not None else DEFAULT_MODEL_DIR
    if not path.is_dir():
        raise WeightsMissingError(
            f"no model folder at {path}; pass --model DIR with a folder written by save_pretrained "
            f"(train one with the scripts/train_*.py stages, see docs/inference.md)"
        )
    with stage("load model"):
        return prepare_model(load_model(path), cfg)
