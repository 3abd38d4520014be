"""KL divergence of a diagonal Gaussian posterior to the standard normal (the VAE's small KL term)."""

from __future__ import annotations

import torch


def gaussian_kl_per_sample(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mean, exp(logvar)) || N(0, 1))`` averaged over latent elements, per sample.

    Averaging (rather than summing) keeps the weight independent of the latent size, so one ``kl`` weight
    works for tiny test models and paper-scale ones alike.

    Args:
        mean: ``(B, c, t, h, w)`` posterior mean.
        logvar: ``(B, c, t, h, w)`` posterior log-variance.
    Returns:
        ``(B,)`` float32, >= 0.
    """
    mean, logvar = mean.float(), logvar.float()
    kl = 0.5 * (mean.square() + logvar.exp() - 1.0 - logvar)
    return kl.flatten(1).mean(dim=1)
