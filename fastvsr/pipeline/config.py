"""Inference settings (``InferConfig``), loaded with ``fastvsr.config.load_config`` from ``configs/infer/``."""

from __future__ import annotations

from dataclasses import dataclass

from fastvsr.config import require
from fastvsr.data.codecs import codec_problem, default_pix_fmt
from fastvsr.frame_batch import DEFAULT_FRAME_BATCH
from fastvsr.ops.color_fix_mode import ColorFix
from fastvsr.precision import Precision

DEFAULT_OVERLAP = 8  # frames / latent pixels shared by neighbouring chunks / tiles, when the size allows
AUTO_TILE = "auto"  # InferConfig.tile: tile only when the chunk does not fit the memory budget
AUTO_MIN_TILE = 16  # latent pixels: the shortest side automatic tiles get (at least 4 x tile_overlap)


@dataclass
class InferConfig:
    """How a video is restored. Spatial tile sizes are in LATENT pixels (x8 input pixels for an f8 encoder).

    Attributes:
        scale: the factor the model restores at (a whole number; the trained factor of the default model is 4).
        resolution: target short side of the output in pixels (0: the restored size, input x ``scale``); the
            restored frames are resized to it (antialiased bicubic), the long side keeping the aspect ratio,
            both sides rounded to even numbers. Any output size this way, e.g. 480p -> 1080p (x2.25).
        max_resolution: the output's long side at most this many pixels (0: no limit); shrinks the target
            (of ``resolution`` or of ``scale``) keeping the aspect ratio.
        steps: denoiser steps (1 = one-step; k > 1 = k-step shortcut sampling when the model supports it);
            ``None`` uses the setting saved with the model.
        chunk_frames: input frames restored together (best as k * frame_multiple + 1, e.g. 17, 33); 0 restores
            the whole video as one chunk (the papers' protocol; memory grows with the length).
        chunk_overlap: frames shared by neighbouring chunks, cross-faded linearly; ``None`` (the default) picks
            ``min(8, chunk_frames // 4)``, so any ``chunk_frames`` works alone.
        tile: ``auto`` (the default): no spatial tiling when the chunk fits the memory budget, else the even
            tile grid that computes the fewest pixels and fits it (``fastvsr.pipeline.memory``); an int: the
            largest latent tile side, each axis cut into the fewest equal tiles (0 = no spatial tiling); a
            multiple of the model's latent multiple.
        tile_overlap: least latent overlap of neighbouring tiles, feathered in output pixels; ``None`` (the
            default) picks ``min(8, tile // 4)``, 8 with ``tile: auto``.
        memory_budget_gb: memory one chunk may use with ``tile: auto``, in GB (1e9 bytes); 0 (the default)
            takes 60 % of the memory available on the device when the chunk starts.
        tile_batch: tiles of one size restored together as one batch (a GPU computes several small tiles
            about as fast as one); with ``tile: auto`` the budget is shared by that many tiles. The same output
            up to float rounding where the sampler draws no noise.
        frame_batch: frames the causal VAE encodes and decodes at a time, carrying its causal padding from
            batch to batch (the same output as whole chunks, with activations for this many frames); 0: the
            whole chunk at once. VAEs with temporal compression keep their own schedule (CogVideoX: 2 latent
            frames at a time).
        fold_copy: fold an f16 decoder's channel copy into its conv_out where that is exact (the same output up
            to float rounding, a 4x smaller conv_out input; :func:`fastvsr.pipeline.device.prepare_model`).
        channels_last: on CPU, keep the causal VAE's activations channels-last (``(B, T, H, W, C)`` in memory)
            from its first conv to its last (:func:`fastvsr.models.vae.causal_conv.use_channels_last`; the same
            output up to float rounding, oneDNN's convs faster in that layout). Not applied on CUDA (unmeasured).
        overlap_io: decode the next input block and encode the last restored frames on background threads
            while the model runs (:mod:`fastvsr.pipeline.overlap`; the same output files, one block and one
            chunk more in memory).
        color_fix: ``none``, ``wavelet`` (computed at the input's resolution, within 1/255 of the
            full-resolution fix) or ``adain`` against the bilinearly upsampled input (:mod:`fastvsr.ops.color_fix`).
        dtype: ``auto`` (bf16 on a CUDA device that supports it, else fp32), ``fp32``, ``bf16`` or ``fp16`` for
            the model and its inputs (outputs are float32).
        device: ``auto`` (cuda when available), ``cpu``, ``cuda`` or ``cuda:N``.
        compile: wrap encode / restore / decode in ``torch.compile``.
        compile_backend: the ``torch.compile`` backend: ``inductor`` (generated kernels), or e.g. ``aot_eager``
            (traces the model as inductor would and runs it with eager kernels: a quick check that it compiles).
        seed: seeds torch before restoring (noise of samplers and of ``sample_posterior``).
        sample_posterior: encode with a sample of the VAE posterior (DOVE's ``latent_dist.sample()``) instead of
            its mode.
        lr_multiple: pad the LR itself (right and bottom, reflected) to a multiple of this before anything else,
            and crop it off the output (DOVE pads LR to multiples of 16); 1 pads only what the model needs.
        max_pixels: refuse output frames with more pixels than this.
        crf: H.264 / H.265 quality of video outputs (lower is better; ignored when ``lossless`` and by ffv1 /
            prores).
        lossless: write lossless video (8-bit RGB, bit-exact; codec h264, h265 or ffv1).
        codec: video codec of video outputs: ``h264``, ``h265``, ``ffv1`` (lossless YUV) or ``prores``
            (.mov / .mkv).
        pix_fmt: pixel format of video outputs: ``yuv420p``, ``yuv444p`` or 10-bit ``yuv420p10le``,
            ``yuv422p10le``, ``yuv444p10le`` (prores: the 10-bit 4:2:2 / 4:4:4 ones); empty: the codec's
            default (``yuv420p``; prores ``yuv422p10le``, ProRes 422 HQ).
        prompt_embeds: a text condition for models whose denoiser cross-attends to text (TurboVSR's LTX-Video
            DiT): a safetensors file with ``prompt_embeds`` ``(1, L, C)`` for every clip, or a folder of
            ``<clip name>.safetensors`` (one per input of a batch); empty: the model's cached prompt.
        chain_first_frame: models that condition on the first frame (TurboVSR) only: restore each chunk given
            the clean latent of its first frame,
            encoded from the previous chunk's restored frame at that position (with ``chunk_overlap: 1`` that
            is the previous chunk's last SR frame), so chunks share one appearance; needs ``chunk_overlap >= 1``.
    """

    scale: int = 4
    resolution: int = 0
    max_resolution: int = 0
    steps: int | None = None
    chunk_frames: int = 33
    chunk_overlap: int | None = None
    tile: int | str = AUTO_TILE
    tile_overlap: int | None = None
    memory_budget_gb: float = 0.0
    tile_batch: int = 1
    frame_batch: int = DEFAULT_FRAME_BATCH
    fold_copy: bool = True
    channels_last: bool = True
    overlap_io: bool = True
    color_fix: ColorFix = ColorFix.NONE
    dtype: Precision = Precision.AUTO
    device: str = "auto"
    compile: bool = False
    compile_backend: str = "inductor"
    seed: int = 0
    sample_posterior: bool = False
    lr_multiple: int = 1
    max_pixels: int = 3840 * 2160
    crf: int = 18
    lossless: bool = False
    codec: str = "h264"
    pix_fmt: str = ""
    prompt_embeds: str = ""
    chain_first_frame: bool = False

    def __post_init__(self) -> None:
        if self.chunk_overlap is None:
            self.chunk_overlap = min(DEFAULT_OVERLAP, self.chunk_frames // 4)
        if isinstance(self.tile, str) and self.tile.strip().isdigit():
            self.tile = int(self.tile)
        require(self.tile == AUTO_TILE or isinstance(self.tile, int),
                f"tile must be auto or a latent tile size >= 0 (0 = no tiling), got '{self.tile}'")
        if self.tile_overlap is None:
            self.tile_overlap = DEFAULT_OVERLAP if self.tile == AUTO_TILE else min(DEFAULT_OVERLAP, self.tile // 4)
        require(self.scale >= 1, f"scale must be >= 1, got {self.scale}")
        require(self.resolution >= 0, f"resolution must be >= 0 (0: input x scale), got {self.resolution}")
        require(self.max_resolution >= 0, f"max_resolution must be >= 0 (0: no limit), got {self.max_resolution}")
        require(self.steps is None or self.steps >= 1, f"steps must be >= 1, got {self.steps}")
        require(self.chunk_frames >= 0, f"chunk_frames must be >= 0 (0 = the whole video), got {self.chunk_frames}")
        require(0 <= self.chunk_overlap < max(self.chunk_frames, 1),
                f"chunk_overlap must be in [0, chunk_frames={self.chunk_frames}), got {self.chunk_overlap}")
        require(self.lr_multiple >= 1, f"lr_multiple must be >= 1, got {self.lr_multiple}")
        require(self.tile_batch >= 1, f"tile_batch must be >= 1, got {self.tile_batch}")
        require(self.tile == AUTO_TILE or self.tile >= 0,
                f"tile must be auto or >= 0 (0 = no tiling), got {self.tile}")
        require(self.tile_overlap >= 0 and (self.tile in (0, AUTO_TILE) or self.tile_overlap < self.tile),
                f"tile_overlap must be in [0, tile={self.tile}), got {self.tile_overlap}")
        require(self.memory_budget_gb >= 0, f"memory_budget_gb must be >= 0 (0: a share of what is available), "
                f"got {self.memory_budget_gb}")
        require(not self.chain_first_frame or self.chunk_overlap >= 1,
                "chain_first_frame needs chunk_overlap >= 1 (the next chunk's first frame must be restored already)")
        require(self.frame_batch >= 0, f"frame_batch must be >= 0 (0: whole chunks), got {self.frame_batch}")
        require(self.max_pixels >= 1, f"max_pixels must be >= 1, got {self.max_pixels}")
        require(0 <= self.crf <= 51, f"crf must be in [0, 51], got {self.crf}")
        self.pix_fmt = self.pix_fmt or default_pix_fmt(self.codec)
        problem = codec_problem(self.codec, self.pix_fmt, self.lossless)
        require(problem is None, problem or "")
        require(self.device == "auto" or self.device == "cpu" or self.device.split(":")[0] == "cuda",
                f"device must be auto, cpu, cuda or cuda:N, got '{self.device}'")

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """``(height, width)`` of the output frames of an input of ``height x width`` pixels: ``x scale``, or
        the ``resolution`` short side, capped by ``max_resolution`` on the long side (rounded to even sides
        whenever a target applies)."""
        out_h, out_w = height * self.scale, width * self.scale
        factor = self.resolution / min(height, width) if self.resolution else float(self.scale)
        if self.max_resolution and max(height, width) * factor > self.max_resolution:
            factor = self.max_resolution / max(height, width)
        if factor == self.scale:
            return out_h, out_w
        return _even(height * factor), _even(width * factor)


def _even(size: float) -> int:
    """The even number of pixels nearest ``size`` (at least 2): 4:2:0 video needs even sides."""
    return max(2, 2 * round(size / 2))
