"""Typed configs of the TurboVSR autoencoder and bundle (schema of ``configs/turbovsr/*.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastvsr.config import require
from fastvsr.diffusion.sampler import SamplerConfig
from fastvsr.diffusion.schedule import ScheduleConfig
from fastvsr.models.denoisers import DenoiserConfig

AE_KINDS = ("patchified", "ltx")


@dataclass
class TurboAEConfig:
    """The 32x32x8 autoencoder.

    ``kind: patchified`` builds :class:`~fastvsr.models.turbo.PatchifiedVAE` (our causal 3D VAE behind a
    ``patch_size`` pixel patchify; spatial factor ``patch_size * 2^(len(block_out_channels) - 1)``).
    ``kind: ltx`` loads diffusers' LTX-Video VAE from the local folder ``pretrained`` (nothing is downloaded;
    the size keys are then ignored).
    """

    kind: str = "patchified"
    block_out_channels: tuple[int, ...] = (128, 256, 512, 512)
    layers_per_block: int = 2
    latent_channels: int = 128
    temporal_factor: int = 8
    patch_size: int = 4
    norm_num_groups: int = 32
    scaling_factor: float = 1.0
    shift_factor: float | None = None
    pretrained: str | None = None

    def __post_init__(self) -> None:
        require(self.kind in AE_KINDS, f"ae.kind must be one of {AE_KINDS}, got '{self.kind}'")
        require(self.kind == "patchified" or self.pretrained is not None,
                "ae.kind=ltx needs ae.pretrained (a local LTX-Video vae/ folder)")
        require(len(self.block_out_channels) >= 2, "ae.block_out_channels needs at least 2 entries")
        require(self.temporal_factor in (1, 2, 4, 8) and self.temporal_factor <= 2 ** (len(self.block_out_channels) - 1),
                f"ae.temporal_factor must be 1, 2, 4 or 8 and at most 2^(stages-1), got {self.temporal_factor}")
        require(self.patch_size >= 1, f"ae.patch_size must be >= 1, got {self.patch_size}")
        require(all(c % self.norm_num_groups == 0 for c in self.block_out_channels),
                f"ae.block_out_channels must be multiples of norm_num_groups={self.norm_num_groups}")
        require(self.latent_channels > 0 and self.layers_per_block > 0 and self.scaling_factor > 0,
                "ae sizes and scaling_factor must be positive")

    @property
    def spatial_factor(self) -> int:
        return self.patch_size * 2 ** (len(self.block_out_channels) - 1)


def flow_sampler() -> SamplerConfig:
    """TurboVSR's default sampling: flow schedule from pure noise (``t_star = T``), 4 shortcut steps."""
    return SamplerConfig(schedule=ScheduleConfig(kind="flow"), steps=4, t_star=1000.0)


@dataclass
class TurboVSRConfig:
    """The TurboVSR bundle: autoencoder, denoiser (its ``cond_channels`` are set from the AE: LR latent + the
    first-frame mask), and the flow sampler it restores with."""

    ae: TurboAEConfig = field(default_factory=TurboAEConfig)
    denoiser: DenoiserConfig = field(default_factory=DenoiserConfig)
    sampler: SamplerConfig = field(default_factory=flow_sampler)

    def __post_init__(self) -> None:
        require(self.sampler.schedule.kind == "flow", "TurboVSR samples with sampler.schedule.kind=flow")
        require(self.denoiser.kind == "unet", "TurboVSR needs denoiser.kind=unet (the DiT adapter takes no LR "
                "condition channels)")
