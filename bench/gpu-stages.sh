#!/usr/bin/env bash
# The GPU suite (bench/gpu-suite.ts) in stages, each under its own time limit, so that a slow
# stage keeps the figures of the others: matmul, the MNIST epoch, a 5,000-image CIFAR-10 epoch
# (150, 110 and 150 s of the default 480 s budget; the same shares of another budget), then
# the full 50,000-image CIFAR-10 epoch if the budget leaves more than a minute for it.
# Usage, from the project root after `npm ci && npm run build`:
#   bash bench/gpu-stages.sh OUT_DIR [BUDGET_SECONDS (default 480)]
# Each stage writes OUT_DIR/<stage>.txt (its report and progress) and OUT_DIR/<stage>.json;
# the machine (GPU, driver, PyTorch) heads 1-matmul.txt.
set -u
out=${1:?usage: bash bench/gpu-stages.sh OUT_DIR [BUDGET_SECONDS]}
budget=${2:-480}
mkdir -p "$out"
SECONDS=0
{
  echo "commit $(git rev-parse HEAD 2>/dev/null || echo unknown), $(date -u)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not found"
  echo "cpus: $(nproc)"
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' 2>&1 | tail -1
} > "$out/1-matmul.txt"  # the machine heads the first stage's report (8 files in all)

stage() {
  local name=$1 limit=$2
  shift 2
  echo "== $name: start at ${SECONDS} s, limit ${limit} s" >> "$out/$name.txt"
  timeout "$limit" node dist/bench/main.js --backend webgpu --json "$out/$name.json" "$@" >> "$out/$name.txt" 2>&1
  echo "== $name: exit code $? at ${SECONDS} s" >> "$out/$name.txt"
}

# A stage's limit: `seconds` of 480, scaled to the budget (at least 1 s).
share() { local s=$((budget * $1 / 480)); echo $((s > 0 ? s : 1)); }

stage 1-matmul "$(share 150)" --only matmul,torch
stage 2-mlp-epoch "$(share 110)" --only mlp-step,torch
stage 3-cnn-epoch-5k "$(share 150)" --only cnn-step,torch --epoch-images 5000 --runs 3
left=$((budget - SECONDS))
if [ "$left" -gt 60 ]; then stage 4-cnn-epoch-50k "$left" --only cnn-step,torch --runs 1; fi
