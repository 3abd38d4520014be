"""Optical flow between frame pairs for E*warp: torchvision RAFT (learned) or OpenCV DIS (weight-free).

Both map ``(N, 3, H, W)`` float ``[0, 1]`` frame batches ``a, b`` to flow ``(N, 2, H, W)`` in pixels
``(dx, dy)`` such that ``a(x) ~ b(x + flow(x))``.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange

from fastvsr.errors import WeightsMissingError


class FlowEstimator(Protocol):
    label: str

    def __call__(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor: ...


class DISFlow:
    """OpenCV's Dense Inverse Search flow (Kroeger et al. 2016) on 8-bit grey frames; needs no weights."""

    label = "dis"

    def __init__(self, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> None:
        self.dis = cv2.DISOpticalFlow_create(preset)

    @staticmethod
    def _grey_uint8(frames: torch.Tensor) -> np.ndarray:
        rgb = (rearrange(frames, "n c h w -> n h w c").clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
        return np.stack([cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in rgb])

    def __call__(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        flows = [self.dis.calc(fa, fb, None) for fa, fb in zip(self._grey_uint8(a), self._grey_uint8(b))]
        return rearrange(torch.from_numpy(np.stack(flows)), "n h w two -> n two h w").to(a.device, torch.float32)


class RaftFlow:
    """torchvision's RAFT-large with a local weights file (``raft_large_C_T_V1``: ported raft-things weights).

    Args:
        weights: path of the state-dict file.

    Raises:
        WeightsMissingError: the file is not a RAFT-large state dict.
        iters: refinement iterations.
        device: torch device string.
    """

    label = "raft"
    MULTIPLE = 8  # RAFT works on a 1/8 feature grid
    MIN_SIZE = 128  # its correlation pyramid needs feature maps of at least 16x16

    def __init__(self, weights: Path, iters: int = 20, device: str = "cpu") -> None:
        from torchvision.models.optical_flow import raft_large

        self.device, self.iters = torch.device(device), iters
        self.model = raft_large(weights=None, progress=False)
        try:
            self.model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        except (RuntimeError, OSError, pickle.UnpicklingError) as err:
            first_line = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise WeightsMissingError(f"raft: could not load {weights} ({first_line})") from None
        self.model.eval().to(self.device)

    def __call__(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        h, w = a.shape[-2:]
        pad_h, pad_w = (max(self.MIN_SIZE, size + -size % self.MULTIPLE) - size for size in (h, w))
        pad = (0, pad_w, 0, pad_h)  # replicate-pad right/bottom; the flow is cropped back
        a, b = (F.pad(x.to(self.device) * 2 - 1, pad, mode="replicate") for x in (a, b))
        with torch.no_grad():
            flow = self.model(a, b, num_flow_updates=self.iters)[-1]
        return flow[..., :h, :w]
