"""Typed config of the VAE (schema for ``configs/models/vae_*.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass

from fastvsr.config import require
from fastvsr.models.vae.autoencoder import decoder_levels
from fastvsr.models.vae.blocks import BlockStyle
from fastvsr.models.vae.shortcut import check_shortcut

VAE_KINDS = ("spatiotemporal", "cogvideox", "patchified", "ltx")
PRETRAINED_ONLY = ("ltx",)  # kinds loaded from a local folder, never built at random here


@dataclass
class VAEConfig:
    """Which VAE to build and its size.

    ``spatial_factor = 2 ** (len(block_out_channels) - 1)``; ``temporal_factor`` is 1, 4 or 8 (at most the
    spatial factor). ``kind: cogvideox`` builds diffusers' CogVideoX VAE. ``kind: patchified`` is TurboVSR's
    autoencoder (:class:`fastvsr.models.vae.PatchifiedVAE`): a ``patch_size`` pixel patchify in front of the
    causal VAE, so ``spatial_factor = patch_size * 2 ** (len(block_out_channels) - 1)`` (32x32x8 with patch 4,
    four stages and ``temporal_factor: 8``); ``patch_size`` is only for this kind. ``kind: ltx`` is diffusers'
    LTX-Video VAE (:class:`fastvsr.models.vae.LTXVideoVAE`), loaded from ``pretrained`` only (the size keys
    are then unused).

    ``pretrained``: a local folder of this kind to load instead of building at random (a diffusers
    ``vae/`` folder for cogvideox/ltx, a ``save_pretrained`` folder for the others, e.g. a stage-0 export);
    nothing is downloaded.
    ``shortcut`` (spatiotemporal only) adds the parameter-free pixel <-> latent path of
    :mod:`fastvsr.models.vae.shortcut`; it needs ``temporal_factor: 1`` and ``latent_channels = 3 p^2``.
    ``norm_type`` (group/none), ``act_fn`` (silu/relu) and ``upsample_mode`` (nearest/pixel_shuffle) pick the
    block design of the spatiotemporal kind (:class:`fastvsr.models.vae.blocks.BlockStyle`); the defaults are
    the usual latent-diffusion blocks. ``decoder_layers_per_block`` (one entry per ``block_out_channels``
    level, finest first; default ``layers_per_block + 1`` each) and ``decoder_time_kernel`` (3, or 1 for a
    per-frame decoder) shape the spatiotemporal decoder only (:class:`fastvsr.models.vae.CausalDecoder3D`).
    """

    kind: str = "spatiotemporal"
    block_out_channels: tuple[int, ...] = (32, 64, 64, 128)
    layers_per_block: int = 1
    latent_channels: int = 8
    temporal_factor: int = 4
    norm_num_groups: int = 8
    scaling_factor: float = 1.0
    shift_factor: float | None = None
    pretrained: str | None = None
    patch_size: int = 1
    shortcut: bool = False
    norm_type: str = "group"
    act_fn: str = "silu"
    upsample_mode: str = "nearest"
    decoder_layers_per_block: tuple[int, ...] | None = None
    decoder_time_kernel: int = 3

    def __post_init__(self) -> None:
        require(self.kind in VAE_KINDS, f"vae.kind must be one of {VAE_KINDS}, got '{self.kind}'")
        if self.kind in PRETRAINED_ONLY:  # the folder's config.json describes it; the size keys are unused
            require(self.pretrained is not None, f"vae.kind={self.kind} needs vae.pretrained (a local folder of "
                    "that VAE)")
            return
        stages = (2, 3, 4, 5, 6) if self.kind == "patchified" else (4, 5, 6)
        require(len(self.block_out_channels) in stages,
                f"vae.block_out_channels needs {', '.join(map(str, stages))} entries for kind={self.kind}"
                if self.kind == "patchified" else
                "vae.block_out_channels needs 4, 5 or 6 entries (spatial factor 8, 16 or 32)")
        require(self.temporal_factor in (1, 2, 4, 8),
                f"vae.temporal_factor must be 1, 2, 4 or 8, got {self.temporal_factor}")
        require(self.temporal_factor <= 2 ** (len(self.block_out_channels) - 1),
                "vae.temporal_factor cannot exceed the spatial factor of the conv stages")
        require(all(c % self.norm_num_groups == 0 for c in self.block_out_channels),
                f"vae.block_out_channels must be multiples of norm_num_groups={self.norm_num_groups}")
        require(self.latent_channels > 0 and self.layers_per_block > 0, "vae sizes must be positive")
        require(self.scaling_factor > 0, "vae.scaling_factor must be positive")
        require(self.patch_size >= 1 and (self.kind == "patchified" or self.patch_size == 1),
                f"vae.patch_size must be >= 1 and is only for kind=patchified, got {self.patch_size}")
        try:
            style = BlockStyle(self.norm_num_groups, self.norm_type, self.act_fn, self.upsample_mode,
                               self.decoder_time_kernel)
            decoder_levels(self.block_out_channels, self.layers_per_block, self.decoder_layers_per_block)
        except ValueError as err:
            raise ValueError(f"vae.{err}") from None
        require(self.kind == "spatiotemporal" or (style == BlockStyle(self.norm_num_groups)
                                                   and self.decoder_layers_per_block is None),
                "vae.norm_type, act_fn, upsample_mode, decoder_layers_per_block and decoder_time_kernel are only "
                "for kind=spatiotemporal")
        if self.shortcut:
            require(self.kind == "spatiotemporal", "vae.shortcut is only for kind=spatiotemporal")
            try:
                check_shortcut(self.latent_channels, self.spatial_factor, self.temporal_factor)
            except ValueError as err:
                raise ValueError(f"vae.{err}") from None

    @property
    def spatial_factor(self) -> int:
        return self.patch_size * 2 ** (len(self.block_out_channels) - 1)
