#!/usr/bin/env bash
# Pretrains the embedded T5 on a lent GPU machine, in one command of about 6 minutes.
#
#   bash tools/pretrain/run_on_gpu.sh [more pretrain.py flags]      (OUT set by the machine)
#
# Needs what tools/pretrain/prepare.py wrote to .pretrain/ (carry ".pretrain": about 6 MB) and a
# python with torch (CUDA) and transformers. Writes to $OUT: span_corruption.tar, lm_adapted.tar,
# log.jsonl, summary.json. Overridable: SPAN_STEPS, LM_STEPS, BATCH, TIME_BUDGET_S (training stops
# by then, counted from pretrain.py's start), HARD_LIMIT_S (SIGTERM; the checkpoints are still
# written), ALLOW_CPU=1 (run without a GPU, for smoke tests only).
set -euo pipefail
export PYTHONUNBUFFERED=1
: "${OUT:?Set OUT to the directory the results go to}"
cd "$(dirname "$0")/../.."

SPAN_STEPS=${SPAN_STEPS:-12000}
LM_STEPS=${LM_STEPS:-6000}
BATCH=${BATCH:-128}
TIME_BUDGET_S=${TIME_BUDGET_S:-330}
HARD_LIMIT_S=${HARD_LIMIT_S:-440}

PY=""
for candidate in python3 python /opt/hfvenv/bin/python; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import torch, transformers" 2>/dev/null; then
    PY=$candidate
    break
  fi
done
[ -n "$PY" ] || { echo "No python with torch and transformers found"; exit 1; }

for f in corpus_ids.npy heldout_ids.npy manifest.json tokenizer/tokenizer.json \
  tokenizer/tokenizer_config.json tokenizer/special_tokens_map.json; do
  [ -f ".pretrain/$f" ] || { echo "Missing .pretrain/$f: run prepare.py here and carry .pretrain"; exit 1; }
done

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true
"$PY" -c "import sys, torch, transformers, numpy; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available(), 'transformers', transformers.__version__, 'numpy', numpy.__version__)"
DEVICE=cuda
if [ "${ALLOW_CPU:-0}" = 1 ]; then DEVICE=auto; fi
"$PY" tools/pretrain/check_objectives.py

rc=0
timeout -k 30 "$HARD_LIMIT_S" "$PY" tools/pretrain/pretrain.py --out "$OUT" --device "$DEVICE" \
  --span-steps "$SPAN_STEPS" --lm-steps "$LM_STEPS" --batch-size "$BATCH" \
  --time-budget-s "$TIME_BUDGET_S" "$@" || rc=$?
ls -l "$OUT"
exit "$rc"
