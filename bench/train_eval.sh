# Sourced by the benchmarks that train and evaluate one model directory per row
# (bench/privacy_utility.sh, bench/federated.sh): arguments DATA NAME, the binary, a work directory
# removed on exit, and train_eval LABEL TRAIN-ARGS... which trains into $work/m, evaluates it into
# $work/r.json (test split) and sets $secs to the training seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?data path}
name=${2:?name for the results}
bin=${DRIFTREC_BIN:-build/driftrec}
[[ -x $bin ]] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p bench/results
train_eval() {
  shift  # the label (the caller records it)
  local start=$SECONDS
  rm -rf "$work/m"
  $bin --log-level warn --threads 2 train --data "$data" "$@" --out "$work/m" > /dev/null
  secs=$((SECONDS - start))
  $bin --log-level warn --threads 2 evaluate --model "$work/m" --data "$data" --json "$work/r.json" > /dev/null
}
