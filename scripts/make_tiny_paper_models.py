"""Write tiny random models of the published diffusers classes in the published folder layouts (no download).

    python scripts/make_tiny_paper_models.py --family cogvideox --output tiny/cogvideox   # vae/ transformer/
    python scripts/make_tiny_paper_models.py --family ltx --output tiny/ltx

They stand in for the CogVideoX1.5 VAE + DOVE DiT (FastVSR) and the LTX-Video VAE + DiT (TurboVSR), so every
paper-scale command (build_model.py, the training configs, infer.py) runs on a CPU. See
fastvsr.recipes.tiny_paper.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from fastvsr.cli import run_main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=("cogvideox", "ltx"), required=True)
    parser.add_argument("--output", type=Path, required=True, help="folder to write (vae/ and transformer/)")
    parser.add_argument("--dtype", choices=("bf16", "fp32"), default="bf16", help="dtype of the saved weights")
    parser.add_argument("--overwrite", action="store_true", help="replace a folder fastvsr wrote before")
    args = parser.parse_args(argv)

    import torch

    from fastvsr.atomic import atomic_path
    from fastvsr.recipes.tiny_paper import MAKERS

    with atomic_path(args.output, overwrite=args.overwrite) as tmp:
        written = MAKERS[args.family](tmp, torch.bfloat16 if args.dtype == "bf16" else torch.float32)
    for name in written:
        print(f"wrote {args.output / name}")
    return 0


if __name__ == "__main__":
    run_main(main)
