"""TurboVSR's factorised conditioning: restore frame 1 as a one-frame video, then the clip given it.

Both tasks go through one denoiser and the shared sampler (:func:`~fastvsr.diffusion.sampler.restore_latent`,
Euler/shortcut steps on the flow schedule).  The denoiser sees

* ``cond = [z_lr, mask]``: the LR latent (the LR video upscaled to the output size and encoded) channel-
  concatenated with a one-channel mask that is 1 on latent frame 0 when the clean HR first-frame latent is given;
* in task (b), the state with latent frame 0 replaced ("pinned") by the clean HR first-frame latent (LTX-Video
  image-to-video style); the velocity of that frame is zeroed so the sampler never moves it.

With a causal AE latent frame 0 is exactly pixel frame 0, so task (a) is image SR of frame 1 (and of any
image).  Training builds its inputs with the same :class:`FirstFrameConditioned` wrapper.
"""

from __future__ import annotations

import torch

from fastvsr.diffusion.sampler import Denoiser, restore_latent
from fastvsr.diffusion.schedule import FlowSchedule

MASK_CHANNELS = 1
"""Extra conditioning channels besides the LR latent (the first-frame mask)."""


def first_frame_condition(z_lr: torch.Tensor, first_known: bool) -> torch.Tensor:
    """``(B, c, t, h, w)`` LR latent -> ``(B, c + 1, t, h, w)`` condition: LR latent + first-frame mask (1 on
    latent frame 0 when ``first_known``, 0 elsewhere)."""
    mask = torch.zeros_like(z_lr[:, :MASK_CHANNELS])
    if first_known:
        mask[:, :, 0] = 1.0
    return torch.cat([z_lr, mask], dim=1)


def pin_first_frame(z: torch.Tensor, z_first: torch.Tensor) -> torch.Tensor:
    """``z`` (B, c, t, h, w) with latent frame 0 replaced by ``z_first`` (B, c, 1, h, w)."""
    return torch.cat([z_first.to(z.dtype), z[:, :, 1:]], dim=2)


class FirstFrameConditioned:
    """A denoiser callable for either task.

    Args:
        denoiser: ``denoiser(z_t, t, cond=None, step_size=None)`` built with ``cond_channels = c + 1``.
        z_first: (B, c, 1, h, w) clean HR first-frame latent (task b), or None (task a: one-frame video).
        use_step_size: pass the sampler's step size on (a shortcut model); False for a plain flow model,
            which has no step-size embedding.
        prompt_embeds: optional ``(B, L, C)`` text condition for denoisers that cross-attend to text (per-clip
            caption embeddings); ``None`` keeps the denoiser's own cached prompt.
    """

    def __init__(self, denoiser: Denoiser, z_first: torch.Tensor | None = None, use_step_size: bool = True,
                 prompt_embeds: torch.Tensor | None = None) -> None:
        self.denoiser = denoiser
        self.z_first = z_first
        self.use_step_size = use_step_size
        self.extra = {} if prompt_embeds is None else {"prompt_embeds": prompt_embeds}

    def __call__(self, z_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor | None = None,
                 step_size: torch.Tensor | None = None) -> torch.Tensor:
        if self.z_first is not None:
            z_t = pin_first_frame(z_t, self.z_first)
        out = self.denoiser(z_t, t, cond=cond, step_size=step_size if self.use_step_size else None, **self.extra)
        if self.z_first is not None:
            out = pin_first_frame(out, torch.zeros_like(out[:, :, :1]))
        return out


def factorized_restore(denoiser: Denoiser, z_lr: torch.Tensor, *, schedule: FlowSchedule, steps: int,
                       t_star: float, use_step_size: bool = True, z_first: torch.Tensor | None = None,
                       generator: torch.Generator | None = None,
                       prompt_embeds: torch.Tensor | None = None) -> torch.Tensor:
    """Restore an LR latent in two factorised passes of :func:`restore_latent`.

    1. latent frame 0 as a one-frame video (skipped when ``z_first`` is given, e.g. the last restored frame of
       the previous chunk);
    2. when ``t > 1``: the whole clip with latent frame 0 pinned to that clean HR latent.

    Args:
        denoiser: the TurboVSR denoiser (``cond_channels = c + 1``).
        z_lr: (B, c, t, h, w) latent of the LR video upscaled to the output size.
        schedule: the flow schedule; ``steps`` Euler/shortcut steps from ``t_star`` (``T``: pure noise).
        use_step_size: see :class:`FirstFrameConditioned`.
        z_first: optional (B, c, 1, h, w) clean HR latent of frame 0.
        generator: randomness of the start noise.
        prompt_embeds: optional ``(B, L, C)`` text condition (see :class:`FirstFrameConditioned`).
    Returns:
        (B, c, t, h, w) restored latent.
    """
    if z_first is None:
        z_first = restore_latent(FirstFrameConditioned(denoiser, None, use_step_size, prompt_embeds), z_lr[:, :, :1],
                                 schedule=schedule, steps=steps, t_star=t_star,
                                 cond=first_frame_condition(z_lr[:, :, :1], first_known=False), generator=generator)
    if z_lr.shape[2] == 1:
        return z_first
    clip = restore_latent(FirstFrameConditioned(denoiser, z_first, use_step_size, prompt_embeds), z_lr, schedule=schedule,
                          steps=steps, t_star=t_star, cond=first_frame_condition(z_lr, first_known=True),
                          generator=generator)
    return pin_first_frame(clip, z_first)
