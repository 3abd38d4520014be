"""Data: video and image I/O, degradations, datasets and benchmark sets.

Importing this package is cheap (no torch, no PyAV); import the sub-modules you need, e.g.
``from fastvsr.data.video import read_video, write_video``.
"""
