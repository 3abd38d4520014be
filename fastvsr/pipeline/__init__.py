"""Inference pipeline: video in -> video out (pad, chunk, tile, restore, blend, colour fix, stream).

Entry points: :func:`fastvsr.pipeline.upscale.upscale_video` (tensor in, tensor out),
:func:`fastvsr.pipeline.upscale.upscale_stream` (chunks in, frames out, memory flat in video length) and
:func:`fastvsr.pipeline.files.super_resolve_path` (file or folder in, file or folder out; used by
``scripts/infer.py``). Importing this package does not import torch.
"""
