#!/usr/bin/env bash
# Speed and agreement of `seq-score bleu` against the `sacrebleu` CLI (2.6.0) on a generated
# 100,000-sentence corpus. Writes bench/results/bleu_vs_sacrebleu.json.
#
# Environment:
#   SACREBLEU   sacrebleu executable (default: /root/venvs/metrics/bin/sacrebleu, else `sacrebleu`)
#   SENTENCES   corpus size (default 100000)
#   RUNS        timed runs per tool, the median is reported (default 5)
#   CARGO_TARGET_DIR  where the release binary is built (default /root/.cache/seqmodel/target-metrics)
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/root/.cache/seqmodel/target-metrics}"
if [[ -z "${SACREBLEU:-}" ]]; then
  if [[ -x /root/venvs/metrics/bin/sacrebleu ]]; then SACREBLEU=/root/venvs/metrics/bin/sacrebleu
  else SACREBLEU=$(command -v sacrebleu || true); fi
fi
if [[ -z "$SACREBLEU" ]]; then
  echo "sacrebleu not found: python3 -m venv /root/venvs/metrics && /root/venvs/metrics/bin/pip install sacrebleu==2.6.0" >&2
  exit 1
fi
PYTHON="$(dirname "$SACREBLEU")/python"
[[ -x "$PYTHON" ]] || PYTHON=python3

cargo build --release -p seqmodel-metrics --bin seq-score >&2
SEQ_SCORE="$CARGO_TARGET_DIR/release/seq-score"

mkdir -p bench/results
"$PYTHON" bench/bleu_vs_sacrebleu.py \
  --seq-score "$SEQ_SCORE" --sacrebleu "$SACREBLEU" \
  --sentences "${SENTENCES:-100000}" --runs "${RUNS:-5}" \
  --bible data/bible-en-es/nt_web_rv1909.tsv \
  --out bench/results/bleu_vs_sacrebleu.json
