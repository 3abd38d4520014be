#!/usr/bin/env bash
# The GPU check for the first CUDA machine (see docs/benchmarks.md, "GPU check"): paper-scale FastVSR vs the f8
# baseline on a 33x720p clip and stage-1 training steps, random weights, bf16. Usage: bash scripts/gpu_check.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 WANDB_MODE=disabled
timeout 900 python scripts/gpu_check.py --config configs/bench/gpu_check.yaml --out "${1:-runs/gpu_check}"
