"""Video codec compression: encode a clip with PyAV into memory at a bitrate and decode it again."""

from __future__ import annotations

import io

import av
import numpy as np
import torch
import torch.nn.functional as F

from fastvsr.data.degradations.jpeg import from_uint8_frames, to_uint8_frames


def compress_video(frames: torch.Tensor, codec: str, bitrate: int, fps: int = 1) -> torch.Tensor:
    """Round-trip a clip through a video codec (inter-frame artefacts: blocking, ringing, smearing, flicker).

    Args:
        frames: ``(T, 3, H, W)`` float in ``[0, 1]``.
        codec: PyAV encoder name (``libx264``, ``h264``, ``mpeg4``).
        bitrate: target bits per second.
        fps: frame rate told to the encoder; 1 makes ``bitrate`` the budget per frame (RealBasicVSR's usage).

    Returns:
        ``(T, 3, H, W)`` float in ``[0, 1]``. Odd sizes are replicate-padded to even for YUV 4:2:0 and
        cropped. Encoding is single-threaded, so the same frames and parameters always give the same output.
    """
    t, _, h, w = frames.shape
    padded = F.pad(frames, (0, w % 2, 0, h % 2), mode="replicate") if (h % 2 or w % 2) else frames
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        # repeatable output: with several threads or macroblock-tree rate control x264 varies run to run
        options = {"x264-params": "threads=1:mbtree=0"} if av.codec.Codec(codec, "w").name == "libx264" else {}
        stream = container.add_stream(codec, rate=fps, options=options)
        stream.codec_context.thread_count = 1
        stream.width, stream.height = padded.shape[-1], padded.shape[-2]
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = int(bitrate)
        for index, rgb in enumerate(to_uint8_frames(padded)):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    buffer.seek(0)
    with av.open(buffer, mode="r") as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    if len(decoded) != t:
        raise RuntimeError(f"{codec} round trip returned {len(decoded)} frames for {t}")
    return from_uint8_frames(np.stack(decoded), frames)[..., :h, :w]
