"""Install learned-metric weight files you downloaded yourself into the weights folder (nothing is downloaded).

    python scripts/install_metric_weights.py ~/Downloads/alexnet-owt-7be5be79.pth ~/Downloads/RN50.pt \
        --weights-dir ~/fastvsr-weights

Each file is recognised by its SHA-256, whatever its name (niqe_modelparameters.mat, which has no published hash,
by its name), and copied atomically to its place in the TORCH_HOME layout that `scripts/evaluate.py --weights-dir`
reads. A file that matches no known file, or has a known name but the wrong hash, stops the run before anything
is copied. Prints one line per file. See docs/evaluation.md ("Installing weight files").
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from fastvsr.cli import run_main
from fastvsr.metrics.install import install_weights


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Copy downloaded metric weight files into the weights folder.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="downloaded weight files")
    parser.add_argument("--weights-dir", default="",
                        help="weights folder, TORCH_HOME layout (default: $TORCH_HOME, else ~/.cache/torch)")
    parser.add_argument("--overwrite", action="store_true", help="replace an installed file with other contents")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for item, status in install_weights(args.files, args.weights_dir, overwrite=args.overwrite):
        print(f"{status}: {item.target} <- {item.source} (SHA-256 {item.digest[:12]}...)")
    return 0


if __name__ == "__main__":
    run_main(main)
