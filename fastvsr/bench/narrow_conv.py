"""Narrow causal convs on CPU: the direct oneDNN conv against the tap-split path, side by side.

``python -m fastvsr.bench.narrow_conv`` (about 1 min, one thread) prints, for 3x3x3 :class:`CausalConv3d`
layers of the shapes the decoders' output heads have, the median seconds of both paths in each memory layout
and their ratio: the measurements behind ``TAP_SPLIT_MAX_OUT`` / ``TAP_SPLIT_MIN_IN``.
"""

from __future__ import annotations

import torch

from fastvsr.bench.timing import time_stages
from fastvsr.models.vae.causal_conv import CausalConv3d, use_channels_last

CASES = (  # (B, C_in, T, H, W) input, C_out
    ((2, 32, 9, 128, 128), 3),  # the tiny benchmark's decoder head
    ((1, 16, 2, 360, 640), 3),
    ((2, 32, 9, 128, 128), 8),
    ((2, 32, 9, 128, 128), 16),
    ((2, 8, 9, 128, 128), 3),
    ((1, 8, 2, 720, 1280), 3),
    ((1, 4, 2, 720, 1280), 3),  # the shipped f16 model's folded head at 720p
)


def main(repeats: int = 5) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    cpu = torch.device("cpu")
    print("| input (B, C_in, T, H, W) | C_out | layout | direct (s) | tap-split (s) | tap-split speed-up |")
    print("|---|---|---|---|---|---|")
    for shape, c_out in CASES:
        conv = CausalConv3d(shape[1], c_out, 3).eval()
        x = torch.randn(shape)
        for layout in ("contiguous", "channels_last"):
            if layout == "channels_last":
                use_channels_last(conv)
                x = x.contiguous(memory_format=torch.channels_last_3d)
            with torch.no_grad():
                timings = time_stages({"direct": lambda _clock: conv._direct_forward(x),
                                       "tap_split": lambda _clock: conv._tap_split_forward(x)}, cpu, repeats)
            direct, split = timings["direct"].total, timings["tap_split"].total
            print(f"| {shape} | {c_out} | {layout} | {direct:.4f} | {split:.4f} | {direct / split:.2f}x |")


if __name__ == "__main__":
    main()
