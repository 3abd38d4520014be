"""fastvsr: fast diffusion-based real-world video super-resolution (FastVSR, TurboVSR).

Conventions used across the package (see ``docs/design.md``):

* video tensors are ``(B, C, T, H, W)`` at public boundaries (``(C, T, H, W)`` for one clip), float in ``[0, 1]``;
* only the VAE wrappers map pixels to ``[-1, 1]`` and apply the latent scale/shift;
* user-facing failures raise :class:`fastvsr.errors.FastVSRError` subclasses with a one-line message.

Importing the package has no side effects and does not import torch.
"""

__version__ = "0.1.0"
