"""A plain 2D residual CNN for x4 SR at LR resolution (EDSR-baseline style): the *reference* the default
model's report measures the f16 model against, to tell what the data and a CPU's training budget allow from
what the f16 architecture costs. It is not a FastVSR model and no inference path loads it.

Per frame: ``conv_in`` (3 -> C), ``num_blocks`` residual blocks (conv, ReLU, conv, identity skip), a body conv
with a long skip, then ``conv_up`` (C -> 3 * scale^2, PixelShuffle(scale)) added to the bicubic upscale of the
input. ``conv_up`` starts at zero, so the untrained network *is* bicubic interpolation.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from einops import rearrange
from torch import nn

from fastvsr.models.local_files import require_weights


class ResidualBlock(nn.Module):
    """``x + conv(relu(conv(x)))`` with 3x3 convolutions of ``channels``; ``(N, C, h, w)`` -> same."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


class ReferenceCNN(ModelMixin, ConfigMixin):
    """x4 (``scale``) single-frame SR network at LR resolution; see the module docstring.

    ``forward(lq)``: ``(B, 3, T, h, w)`` in ``[0, 1]`` -> ``(B, 3, T, h * scale, w * scale)``, clamped to
    ``[0, 1]`` unless ``clamp=False`` (training, so pixels past the range still get gradients). Frames are
    restored independently.
    """

    @register_to_config
    def __init__(self, channels: int = 64, num_blocks: int = 8, scale: int = 4) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(3, channels, 3, padding=1)
        self.blocks = nn.Sequential(*(ResidualBlock(channels) for _ in range(num_blocks)))
        self.conv_body = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv_up = nn.Conv2d(channels, 3 * scale * scale, 3, padding=1)
        nn.init.zeros_(self.conv_up.weight)
        nn.init.zeros_(self.conv_up.bias)

    def forward(self, lq: torch.Tensor, clamp: bool = True) -> torch.Tensor:
        b = lq.shape[0]
        frames = rearrange(lq, "b c t h w -> (b t) c h w")
        scale = self.config.scale
        base = F.interpolate(frames, scale_factor=scale, mode="bicubic", align_corners=False)
        feat = self.conv_in(frames)
        feat = feat + self.conv_body(self.blocks(feat))
        out = base + F.pixel_shuffle(self.conv_up(feat), scale)
        out = out.clamp(0, 1) if clamp else out
        return rearrange(out, "(b t) c h w -> b c t h w", b=b)


def load_reference_cnn(folder: str | Path) -> ReferenceCNN:
    """A trained :class:`ReferenceCNN` from its ``save_pretrained`` folder, fp32, in eval mode.

    Raises:
        InputError: the folder or its weights are missing (:func:`require_weights`).
    """
    require_weights(folder)
    return ReferenceCNN.from_pretrained(str(folder)).float().eval()
