"""Offline perceptual losses (LPIPS from the ``lpips`` package, DISTS from pyiqa) on videos, per frame.

Nothing is downloaded. The backbones are torchvision ImageNet weights that must already sit in
``$TORCH_HOME/hub/checkpoints`` (torch.hub's folder); DISTS also needs its alpha/beta file in
``$TORCH_HOME/hub/pyiqa``. When a file is missing a :class:`WeightsMissingError` names it. A random backbone is
only ever used when the config asks for it explicitly (``perceptual_weights: random``, for tests and smoke
runs): LPIPS then keeps the wheel's calibrated linear heads on a random AlexNet/VGG, so distances stay >= 0.
"""

from __future__ import annotations

import contextlib
import io
from enum import Enum
from pathlib import Path

import torch
from einops import rearrange
from torch import nn

from fastvsr.errors import ConfigError, WeightsMissingError
from fastvsr.metrics.weights import ALEXNET_FILE, DISTS_FILE, SQUEEZENET_FILE, VGG16_FILE


class Perceptual(str, Enum):
    """Which perceptual term a reconstruction loss uses."""

    NONE = "none"
    LPIPS = "lpips"
    DISTS = "dists"


class BackboneWeights(str, Enum):
    """Where the perceptual backbone's weights come from."""

    PRETRAINED = "pretrained"  # torchvision ImageNet file in $TORCH_HOME/hub/checkpoints (required)
    RANDOM = "random"  # explicit opt-in: random backbone (tests, smoke runs); numbers are not LPIPS


# torchvision's backbone files, relative to $TORCH_HOME/hub (one table with the metrics: fastvsr.metrics.weights)
BACKBONE_FILES = {"alex": ALEXNET_FILE, "vgg": VGG16_FILE, "squeeze": SQUEEZENET_FILE}


def hub_dir() -> Path:
    """``$TORCH_HOME/hub``: torchvision's backbones are in ``checkpoints/``, pyiqa's files in ``pyiqa/``."""
    return Path(torch.hub.get_dir())


def _require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise WeightsMissingError(
            f"{what} weights not found at {path}; copy the file there (set TORCH_HOME to choose the folder) "
            f"or set loss.perceptual=none / loss.perceptual_weights=random for a smoke run")
    return path


class _FramewiseMetric(nn.Module):
    """Applies an image metric ``(N, 3, H, W) x2 -> (N,)`` to every frame of two videos; frozen, fp32."""

    def _image_distance(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean over frames of the per-frame distance.

        Args:
            pred, target: ``(B, 3, T, H, W)`` float in ``[0, 1]``.
        Returns:
            ``(B,)`` float32 distance per sample (gradients flow to ``pred``).
        """
        b = pred.shape[0]
        frames = [rearrange(v.float(), "b c t h w -> (b t) c h w") for v in (pred, target)]
        with torch.autocast(device_type=pred.device.type, enabled=False):
            dist = self._image_distance(*frames).reshape(-1)  # ((b t),)
        return rearrange(dist, "(b t) -> b t", b=b).mean(dim=1)


class LPIPSLoss(_FramewiseMetric):
    """LPIPS (Zhang et al. 2018) through the ``lpips`` package, frozen, applied per frame.

    Args:
        net: ``"alex"`` (default, as in DOVE/FastVSR evaluation), ``"vgg"`` or ``"squeeze"``.
        weights: ``PRETRAINED`` needs the torchvision backbone file locally; ``RANDOM`` is an explicit opt-in.
    """

    def __init__(self, net: str = "alex", weights: BackboneWeights = BackboneWeights.PRETRAINED) -> None:
        super().__init__()
        import lpips

        if net not in BACKBONE_FILES:
            raise ConfigError(f"lpips_net must be one of {sorted(BACKBONE_FILES)}, got '{net}'")
        weights = BackboneWeights(weights)
        if weights is BackboneWeights.PRETRAINED:
            _require_file(hub_dir() / BACKBONE_FILES[net], f"LPIPS {net} backbone")
        with contextlib.redirect_stdout(io.StringIO()):  # lpips prints its loading messages
            self.net = lpips.LPIPS(net=net, pretrained=True, pnet_rand=weights is BackboneWeights.RANDOM,
                                   verbose=False)
        self.net.eval().requires_grad_(False)

    def _image_distance(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.net(pred, target, normalize=True)  # normalize: inputs are [0, 1]

    def train(self, mode: bool = True) -> LPIPSLoss:
        """Stays in eval mode (no dropout) whatever the surrounding model does."""
        return super().train(False)


class DISTSLoss(_FramewiseMetric):
    """DISTS (Ding et al. 2020) through pyiqa's architecture, frozen, per frame (DOVE's stage-2 loss).

    Needs ``vgg16-397923af.pth`` in ``$TORCH_HOME/hub/checkpoints`` and ``DISTS_weights-f5e65c96.pth`` in
    ``$TORCH_HOME/hub/pyiqa``; there is no random variant (pyiqa always loads the ImageNet VGG).
    """

    def __init__(self) -> None:
        super().__init__()
        _require_file(hub_dir() / BACKBONE_FILES["vgg"], "DISTS vgg16 backbone")
        alpha_beta = _require_file(hub_dir() / DISTS_FILE, "DISTS alpha/beta")
        from pyiqa.archs.dists_arch import DISTS

        with contextlib.redirect_stdout(io.StringIO()):
            self.net = DISTS(pretrained_model_path=str(alpha_beta))
        self.net.eval().requires_grad_(False)

    def _image_distance(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.net(pred, target)

    def train(self, mode: bool = True) -> DISTSLoss:
        return super().train(False)


def build_perceptual(kind: Perceptual | str, weights: BackboneWeights | str = BackboneWeights.PRETRAINED,
                     lpips_net: str = "alex") -> nn.Module | None:
    """The perceptual loss module for ``kind`` (``None`` for ``Perceptual.NONE``).

    Raises:
        WeightsMissingError: pretrained weights requested but not present locally.
        ConfigError: ``random`` weights requested for DISTS, which has no random variant.
    """
    kind, weights = Perceptual(kind), BackboneWeights(weights)
    if kind is Perceptual.NONE:
        return None
    if kind is Perceptual.LPIPS:
        return LPIPSLoss(net=lpips_net, weights=weights)
    if weights is BackboneWeights.RANDOM:
        raise ConfigError("DISTS has no random-backbone variant; use loss.perceptual=lpips or none")
    return DISTSLoss()
