"""Causal 3D convolution and per-frame group norm: the two layers that keep the VAE causal in time.

A causal conv pads only past frames (copies of the first frame), so output frame ``i`` depends on input frames
``<= i``; the group norm normalises each frame on its own, so no statistic leaks information across time.

Because of that, a model built of these layers (and per-frame ones) can run a clip in consecutive frame
batches: inside :func:`causal_stream`, every :class:`CausalConv3d` keeps the last ``kernel_t - 1`` frames
of its input and pads the next batch with them instead of copies of frame 0. The output equals the
whole-clip output (up to float rounding), while activations exist for one batch of frames at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from einops import rearrange, reduce
from torch import nn

from fastvsr.ops.conv3d import OneDNNConv3d, onednn_inference
from fastvsr.ops.layout import layout_of


class CausalConv3d(OneDNNConv3d):
    """``Conv3d`` on ``(B, C, T, H, W)``: ``kernel_t - 1`` copies of frame 0 padded in front, zero spatial pad.

    Spatial stride is allowed (``stride=(1, s, s)``); the output keeps ``T`` frames and ``H/s x W/s`` pixels
    for odd spatial kernels.

    CPU inference (float32, no autograd) calls oneDNN directly (:class:`fastvsr.ops.conv3d.OneDNNConv3d`;
    PyTorch would send batch-1 convs with few channels to its 6-10x slower ``slow_conv3d``). A narrow conv (at most
    :data:`TAP_SPLIT_MAX_OUT` outputs from at least :data:`TAP_SPLIT_MIN_IN` inputs, e.g. a decoder's
    ``conv_out`` to RGB) runs tap-split there: see :meth:`_tap_split_forward`.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int, int] = 3,
                 stride: int | tuple[int, int, int] = 1) -> None:
        kt, kh, kw = (kernel_size,) * 3 if isinstance(kernel_size, int) else kernel_size
        stride = (1, stride, stride) if isinstance(stride, int) else stride
        if stride[0] != 1:
            raise ValueError("CausalConv3d: temporal stride must be 1 (time is resampled outside the conv)")
        super().__init__(in_channels, out_channels, (kt, kh, kw), stride=stride, padding=(0, kh // 2, kw // 2))
        self.time_pad = kt - 1
        self.streaming = False  # inside causal_stream(): carry the last time_pad input frames to the next call
        self.past: torch.Tensor | None = None  # (B, C_in, time_pad, H, W): those frames (None: at frame 0)
        # tap-split path: (B, kernel_t * C_out, time_pad, H', W'), the per-tap outputs of those frames
        self.past_taps: torch.Tensor | None = None
        self.owns_past = False  # self.past is this conv's own buffer (not a caller's input), so it may be reused

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (self.time_pad and self.out_channels <= TAP_SPLIT_MAX_OUT and self.in_channels >= TAP_SPLIT_MIN_IN
                and onednn_inference(x)):
            return self._tap_split_forward(x)
        return self._direct_forward(x)

    def _direct_forward(self, x: torch.Tensor) -> torch.Tensor:
        """The causal conv of ``x`` ``(B, C_in, T, H, W)`` on its time-padded copy: ``(B, C_out, T, H', W')``."""
        if self.time_pad:
            padded = self._time_padded(x)
            if self.streaming:  # a batch of exactly time_pad frames is carried as it is (no copy, same memory)
                if x.shape[2] == self.time_pad:
                    self.past, self.owns_past = x, False
                else:
                    self.past, self.owns_past = _carry(self.past, padded, self.time_pad, self.owns_past), True
            x = padded
        return super().forward(x)

    def _tap_split_forward(self, x: torch.Tensor) -> torch.Tensor:
        """The causal conv of ``x`` ``(B, C_in, T, H, W)`` as one per-frame ``(1, kh, kw)`` conv with
        ``kernel_t * C_out`` outputs (the response of every input frame to every temporal tap), then a sum of
        time-shifted slices: ``out[t] = bias + sum_k taps_k[t + k - time_pad]``, frames before 0 being frame 0's
        (or, while streaming, the carried taps of the previous batch). Returns ``(B, C_out, T, H', W')``.

        oneDNN computes 3x3x3 convs with 3 outputs several times slower per MAC than with 32; with 9 outputs
        the same MACs run 1.9-2.8x faster from 16-32 inputs (``python -m fastvsr.bench.narrow_conv``), and no
        padded copy of the input is made. Same result up to float rounding (~1e-6); the MACs are those of the
        direct conv."""
        kt, c_out, pad = self.kernel_size[0], self.out_channels, self.time_pad
        weight = rearrange(self.weight, "o i k h w -> (k o) i 1 h w")
        taps = torch.mkldnn_convolution(x.contiguous(memory_format=layout_of(x)),
                                        weight.contiguous(memory_format=layout_of(self.weight)), None,
                                        (0, *self.padding[1:]), self.stride, self.dilation, self.groups)
        past = self.past_taps if self.past_taps is not None else taps[:, :, :1].expand(-1, -1, pad, -1, -1)
        taps = _prepend_frames(past, taps)  # (B, kt * C_out, pad + T, H', W'): narrow, cheap to copy
        frames = x.shape[2]
        out = taps[:, (kt - 1) * c_out:, pad:].clone()
        if self.bias is not None:
            out += self.bias.view(1, -1, 1, 1, 1)
        for k in range(kt - 1):
            out += taps[:, k * c_out:(k + 1) * c_out, k:k + frames]
        if self.streaming:
            self.past_taps = _carry(self.past_taps, taps, pad, owned=True)
        return out

    def _time_padded(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, time_pad + T, H, W)``: the carried frames (or copies of frame 0), then ``x``."""
        past = self.past if self.past is not None else x[:, :, :1].expand(-1, -1, self.time_pad, -1, -1)
        return _prepend_frames(past, x)


def _carry(buffer: torch.Tensor | None, frames: torch.Tensor, count: int, owned: bool) -> torch.Tensor:
    """The last ``count`` frames of ``frames`` ``(B, C, T, H, W)`` as a tensor of their own, written into
    ``buffer`` (the previous batch's carried frames) when this conv owns it and its shape matches: a frame
    stream then allocates its carried frames once instead of at every batch (the old and the new ones no
    longer coexist, and the allocator is not handed a fresh block per batch). ``frames`` must not alias
    ``buffer``."""
    last = frames[:, :, -count:]
    if owned and buffer is not None and buffer.shape == last.shape and buffer.dtype == last.dtype:
        return buffer.copy_(last)
    return last.clone()


def _prepend_frames(past: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``past`` ``(B, C, P, H, W)`` then ``x`` ``(B, C, T, H, W)`` along time, in ``x``'s memory layout
    (``torch.cat`` takes its layout from the first input, which is often an expanded frame 0)."""
    if layout_of(x) is torch.contiguous_format:
        return torch.cat([past, x], dim=2)
    b, c, t, h, w = x.shape
    pad = past.shape[2]
    out = torch.empty((b, c, pad + t, h, w), dtype=x.dtype, device=x.device, memory_format=layout_of(x))
    out[:, :, :pad] = past
    out[:, :, pad:] = x
    return out


@contextmanager
def causal_stream(module: nn.Module) -> Iterator[None]:
    """Within the block, call ``module`` on consecutive frame batches of one clip ``(B, C, T_i, H, W)``: every
    :class:`CausalConv3d` inside it pads a batch with the previous batch's last frames (the first batch with
    copies of its frame 0), so the concatenated outputs equal those of one call on the whole clip. Only for
    layers that are causal and frame-local otherwise (no temporal resampling, per-frame norms); on leaving,
    the carried frames are dropped."""
    convs = [m for m in module.modules() if isinstance(m, CausalConv3d)]
    for conv in convs:
        conv.streaming, conv.past, conv.past_taps, conv.owns_past = True, None, None, False
    try:
        yield
    finally:
        for conv in convs:
            conv.streaming, conv.past, conv.past_taps, conv.owns_past = False, None, None, False


def frame_slices(num_frames: int, batch: int) -> list[slice]:
    """Consecutive slices of at most ``batch`` frames covering ``num_frames`` (one slice when ``batch`` is 0)."""
    if batch <= 0 or batch >= num_frames:
        return [slice(0, num_frames)]
    return [slice(start, min(start + batch, num_frames)) for start in range(0, num_frames, batch)]


def use_channels_last(module: nn.Module) -> int:
    """Store the weights of every :class:`CausalConv3d` in ``module`` channels-last (in place; returns how
    many). oneDNN then computes those convs in ``(B, T, H, W, C)`` layout and returns channels-last outputs,
    so a VAE coder's activations stay channels-last from its first conv to its last (same values up to float
    rounding). Inference only: training keeps the default layout."""
    convs = [m for m in module.modules() if isinstance(m, CausalConv3d)]
    for conv in convs:
        conv.weight.data = conv.weight.data.contiguous(memory_format=torch.channels_last_3d)
    return len(convs)


TAP_SPLIT_MAX_OUT = 8
TAP_SPLIT_MIN_IN = 16
"""A CPU-inference :class:`CausalConv3d` runs tap-split with at most ``TAP_SPLIT_MAX_OUT`` output and at least
``TAP_SPLIT_MIN_IN`` input channels. Measured on one core, 3x3x3, against the direct oneDNN conv
(``python -m fastvsr.bench.narrow_conv`` prints the table): 16-32 -> 3 channels 1.9-2.8x faster in both
memory layouts, 32 -> 8 1.1x, 32 -> 16 0.7x; from 4-8 inputs at 720p the 9-channel tap output costs about
what it saves (0.5-1.2x), so those stay direct."""


class FrameGroupNorm(nn.GroupNorm):
    """``GroupNorm`` applied to every frame of ``(B, C, T, H, W)`` separately (statistics over C/g, H, W)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        y = super().forward(rearrange(x, "b c t h w -> (b t) c h w"))
        return rearrange(y, "(b t) c h w -> b c t h w", b=b)


def resample_time(x: torch.Tensor, up: bool) -> torch.Tensor:
    """Causal temporal resampling by 2 that keeps the first frame alone.

    ``up=False``: ``1 + 2k`` frames -> ``1 + k`` (frame 0 kept, later frames averaged in pairs);
    ``up=True``: ``1 + k`` -> ``1 + 2k`` (frame 0 kept, later frames repeated). A single frame is unchanged.
    """
    first, rest = x[:, :, :1], x[:, :, 1:]
    if rest.shape[2] == 0:
        return x
    if up:
        rest = rest.repeat_interleave(2, dim=2)
    else:
        rest = reduce(rest, "b c (t pair) h w -> b c t h w", "mean", pair=2)  # any dtype, unlike avg_pool3d
    return torch.cat([first, rest], dim=2)
