"""The pixel-space reconstruction loss used by every stage: a dict of named, weighted, per-sample terms.

Terms (each enabled by a non-zero weight): ``l1``, ``mse``, a perceptual term (LPIPS or DISTS, per frame) and
``frame_diff`` (L1 on temporal differences, DOVE stage 2). Each term is returned already weighted so the total
is their sum and each one can be logged on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from fastvsr.config import require
from fastvsr.losses.perceptual import BackboneWeights, Perceptual, build_perceptual
from fastvsr.losses.pixel import frame_difference_l1, l1_per_sample, mse_per_sample


@dataclass
class ReconstructionLossConfig:
    """Weights of the reconstruction terms; 0 disables a term."""

    l1: float = 1.0
    mse: float = 0.0
    perceptual: Perceptual = Perceptual.NONE
    perceptual_weight: float = 1.0
    perceptual_weights: BackboneWeights = BackboneWeights.PRETRAINED
    lpips_net: str = "alex"
    frame_diff: float = 0.0

    def __post_init__(self) -> None:
        for name in ("l1", "mse", "perceptual_weight", "frame_diff"):
            require(getattr(self, name) >= 0, f"loss.{name} must be >= 0, got {getattr(self, name)}")
        has_perceptual = self.perceptual is not Perceptual.NONE and self.perceptual_weight > 0
        require(self.l1 + self.mse + self.frame_diff > 0 or has_perceptual, "loss: every term has weight 0")


class ReconstructionLoss(nn.Module):
    """``terms(pred, target) -> {name: (B,) weighted loss}``; ``total`` sums them.

    Shapes: ``pred``, ``target`` are ``(B, 3, T, H, W)`` float in ``[0, 1]``.
    """

    def __init__(self, cfg: ReconstructionLossConfig) -> None:
        super().__init__()
        self.perceptual = None
        if cfg.perceptual_weight > 0:
            self.perceptual = build_perceptual(cfg.perceptual, cfg.perceptual_weights, cfg.lpips_net)
        fns: dict[str, tuple[float, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]] = {
            "l1": (cfg.l1, l1_per_sample),
            "mse": (cfg.mse, mse_per_sample),
            "frame_diff": (cfg.frame_diff, frame_difference_l1),
        }
        if self.perceptual is not None:
            fns[Perceptual(cfg.perceptual).value] = (cfg.perceptual_weight, self.perceptual)
        self._terms = {name: wf for name, wf in fns.items() if wf[0] > 0}

    def terms(self, pred: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each enabled term, weighted, as a ``(B,)`` float32 tensor."""
        return {name: weight * fn(pred, target) for name, (weight, fn) in self._terms.items()}

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Total loss per sample, ``(B,)`` float32."""
        return torch.stack(list(self.terms(pred, target).values())).sum(dim=0)


def batch_total(terms: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """The training loss of per-sample terms ``{name: (B,)}`` (their sum, averaged over the batch) and the
    scalars a stage logs for it: ``total`` and ``rec/<name>`` (each term's batch mean)."""
    total = torch.stack(list(terms.values())).sum(dim=0).mean()
    return total, {"total": total.item(), **{f"rec/{k}": v.mean().item() for k, v in terms.items()}}
