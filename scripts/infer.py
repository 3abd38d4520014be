"""Super-resolve videos, images or folders of frames with a saved FastVSR model.

    python scripts/infer.py --input video.mp4                    # writes video_x4.mp4 beside it, audio kept
    python scripts/infer.py --input photo.png --scale 4           # writes photo_x4.png
    python scripts/infer.py --input clip.mp4 --resolution 1080    # 1080 rows, aspect kept (restored x4, resized)
    python scripts/infer.py --input frames/ --output out/         # a folder of frames in, a folder out
    python scripts/infer.py --input clips/ --output clips_x4/     # every video / frame folder in clips/
    python scripts/infer.py --input 'photos/*.jpg' --output up/   # a glob: each match on its own
    python scripts/infer.py --input v.mp4 --config configs/infer/low_memory.yaml tile=32
    python scripts/infer.py --input clip.mp4 --profile             # then a table of seconds per stage
    accelerate launch --num_processes 2 --multi_gpu scripts/infer.py --input clips/   # files split over 2 GPUs

What --input may be, and where batch outputs go: fastvsr.pipeline.batch (docs/inference.md).

Settings come from fastvsr.pipeline.config.InferConfig (defaults), then --config YAML files, then the flags
below, then trailing key=value overrides. See docs/inference.md.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from fastvsr.cli import add_config_arguments, config_overrides, print_config, run_main, schema_epilog, show_defaults
from fastvsr.config import load_config
from fastvsr.data.codecs import CODECS, PIX_FMTS
from fastvsr.ops.color_fix_mode import ColorFix
from fastvsr.pipeline.config import InferConfig, Precision

# the pipeline (torch, diffusers) is imported in main(), after parsing: --help answers at once

# flag -> InferConfig field; flags default to None so the dataclass alone holds the defaults
FLAG_FIELDS = {
    "scale": "scale", "resolution": "resolution", "max_resolution": "max_resolution", "steps": "steps",
    "chunk": "chunk_frames", "chunk_overlap": "chunk_overlap", "tile": "tile", "tile_overlap": "tile_overlap",
    "memory_budget": "memory_budget_gb", "tile_batch": "tile_batch", "frame_batch": "frame_batch",
    "color_fix": "color_fix", "dtype": "dtype",
    "device": "device", "compile": "compile", "seed": "seed", "max_pixels": "max_pixels", "crf": "crf",
    "lossless": "lossless", "codec": "codec", "pix_fmt": "pix_fmt", "prompt_embeds": "prompt_embeds",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Super-resolve videos, images or folders of frames.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=schema_epilog(InferConfig, "examples:\n" + __doc__.split("\n\n")[1]))
    parser.add_argument("--input", required=True, help="video, image, folder of frames, folder of videos / frame "
                        "folders, or a quoted glob")
    parser.add_argument("--output", help="output path; a folder for a batch (default: <input>_x<scale> beside the "
                        "input)")
    parser.add_argument("--model", help="model folder (default: the model shipped in fastvsr/weights/default, "
                        "trained on clean and real-world degraded LR)")
    add_config_arguments(parser, required=False, files_help="configs/infer/*.yaml files",
                         overrides_help="InferConfig overrides, e.g. seed=3")
    parser.add_argument("--scale", type=int, help="upscale factor the model restores at")
    parser.add_argument("--resolution", type=int, help="output short side in pixels, any size (0: input x scale)")
    parser.add_argument("--max-resolution", type=int, help="output long side at most this (0: no limit)")
    parser.add_argument("--steps", type=int, help="denoiser steps (1 = one-step)")
    parser.add_argument("--chunk", type=int, help="frames per temporal chunk")
    parser.add_argument("--chunk-overlap", type=int,
                        help="frames shared by neighbouring chunks (default: min(8, chunk // 4))")
    parser.add_argument("--tile", help="auto (tile only when the chunk does not fit the memory budget), or the "
                        "largest latent tile side (0 = no tiling)")
    parser.add_argument("--memory-budget", type=float, help="GB one chunk may use with --tile auto (0: 60%% of the "
                        "available memory)")
    parser.add_argument("--tile-batch", type=int, help="tiles of one size restored together (GPU: several small "
                        "tiles about as fast as one; tile auto shares the memory budget among them)")
    parser.add_argument("--frame-batch", type=int, help="frames the VAE encodes / decodes at a time (same output; "
                        "fewer: less memory; 0: the whole chunk)")
    parser.add_argument("--tile-overlap", type=int,
                        help="latent overlap of neighbouring tiles (default: 8; min(8, tile // 4) for an int tile)")
    parser.add_argument("--color-fix", choices=[c.value for c in ColorFix], help="colour correction")
    parser.add_argument("--dtype", choices=[p.value for p in Precision], help="model precision")
    parser.add_argument("--device", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--compile", action="store_true", default=None, help="torch.compile the model")
    parser.add_argument("--seed", type=int, help="random seed")
    parser.add_argument("--max-pixels", type=int, help="refuse output frames with more pixels")
    parser.add_argument("--crf", type=int, help="H.264 quality of video outputs (lower is better)")
    parser.add_argument("--lossless", action="store_true", default=None, help="lossless video output")
    parser.add_argument("--codec", choices=list(CODECS), help="video codec of video outputs (default h264; prores "
                        "outputs default to .mov)")
    parser.add_argument("--pix-fmt", choices=PIX_FMTS, help="pixel format of video outputs (default yuv420p, "
                        "prores yuv422p10le; *10le: 10 bits)")
    parser.add_argument("--compare", action="store_true", help="also write <output>_compare.{mp4,png}")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    parser.add_argument("--skip-existing", action="store_true", help="batch: skip inputs whose output exists "
                        "(re-run to resume)")
    parser.add_argument("--prompt-embeds", help="text condition of a model that takes one (TurboVSR's LTX-Video DiT): a "
                        "safetensors file with prompt_embeds (1, L, C), or a folder of <clip name>.safetensors")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--profile", action="store_true", help="print where the time went, per stage (to stderr)")
    defaults = InferConfig()
    show_defaults(parser, {flag: getattr(defaults, field) for flag, field in FLAG_FIELDS.items()})
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    values = {field: getattr(args, flag) for flag, field in FLAG_FIELDS.items()}
    flags = [f"{field}={value}" for field, value in values.items() if value is not None]
    cfg = load_config(InferConfig, args.config, flags + config_overrides(args))
    if args.print_config:
        print_config(cfg)
        return 0
    from fastvsr.pipeline.run import InferRequest, run_infer

    return run_infer(InferRequest(args.input, args.output, args.model, compare=args.compare,
                                  overwrite=args.overwrite, skip_existing=args.skip_existing, quiet=args.quiet,
                                  profile=args.profile), cfg)


if __name__ == "__main__":
    run_main(main)
