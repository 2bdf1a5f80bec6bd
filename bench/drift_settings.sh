# shellcheck shell=bash
# The drift sweep's four settings of `driftrec synth --preset ecommerce` (issue #21), shared by
# bench/drift_sweep.sh, drift_calibrated.sh and drift_frontier.sh: flags[SETTING] holds the flags.
# shellcheck disable=SC2034  # read by the scripts that source this file
declare -A flags=(
  [none]="--shift-rate 0 --drift 0"
  [weak]="--shift-rate 0.03 --drift 0.05"
  [moderate]="--shift-rate 0.08 --drift 0.15"
  [strong]="--shift-rate 0.2 --drift 0.3"
)

# drift_synth_args USERS ITEMS SETTING: the `driftrec` arguments of the sweep's shop (seed 7, or
# SEED=N for another draw of the same shop, a check that nothing is fitted to seed 7's) at a
# setting, one line (for the provenance's data description too).
drift_synth_args() {
  echo "synth --preset ecommerce --users $1 --items $2 --seed ${SEED:-7} ${flags[$3]}"
}

# drift_shop BIN USERS ITEMS SETTING DIR: that shop, written to DIR.
drift_shop() {
  # shellcheck disable=SC2046  # the arguments are several words
  "$1" --log-level warn $(drift_synth_args "$2" "$3" "$4") --out "$5" > /dev/null
}

# drift_sequential MODEL: whether MODEL is one of the sequential models (the ones SEQ_SET and the
# training's --request-at apply to).
drift_sequential() {
  [[ " gru4rec sasrec hstu caser " == *" $1 "* ]]
}

# drift_model BIN DATA MODEL OUT [train flags...]: MODEL with its committed config
# (configs/beauty/MODEL.yaml) trained on DATA with the sweep's temporal split (0.8 / 0.9), into OUT.
# With MODELS=DIR set, the trained model is kept in DIR under a key of the binary, the config, the
# data's files and the flags, and a later call with the same key (another drift script, a rerun)
# copies it instead of training again. What the key does not see: the system libraries the binary
# loads (LibTorch, OpenBLAS); clear DIR after upgrading them. DRIFTREC_TRAIN_BIN=PATH trains with
# another binary than BIN (an earlier build's models, kept in DIR, evaluated by a newer one that
# asks in a way the earlier could not); the key is then that binary's. The sequential models'
# validation (early stopping) asks its lists at the validation period's cutoff, as the benchmarks
# read them (`train --request-at`, from 2026-12-08 by the rule in docs/design-notes.md);
# TRAIN_REQUEST_AT=none trains as every run before that did.
# train_bin_note BIN: with DRIFTREC_TRAIN_BIN set, the provenance note saying which binary trained the
# kept models and which one (BIN) evaluated them; nothing otherwise. Use: ${note:+--note "$note"}.
train_bin_note() {
  [ -z "${DRIFTREC_TRAIN_BIN:-}" ] && return 0
  echo "models trained by $DRIFTREC_TRAIN_BIN (sha1 $(sha1sum "$DRIFTREC_TRAIN_BIN" | cut -c1-12)), evaluated by $1"
}

drift_model() {
  local bin=${DRIFTREC_TRAIN_BIN:-$1} data=$2 m=$3 out=$4
  shift 4
  local args=(--split temporal --valid-start 0.8 --test-start 0.9 --model "$m" --config "configs/beauty/$m.yaml")
  # Without the flag at "none", so a kept model of the runs before it keeps its key.
  if drift_sequential "$m" && [ "${TRAIN_REQUEST_AT:-cutoff}" != none ]; then
    args+=(--request-at "${TRAIN_REQUEST_AT:-cutoff}")
  fi
  args+=("$@")
  if [ -z "${MODELS:-}" ]; then
    "$bin" --log-level warn --threads 2 train --data "$data" "${args[@]}" --out "$out" > /dev/null
    return
  fi
  local key
  key=$({
    sha1sum "$bin" "configs/beauty/$m.yaml" | cut -d' ' -f1
    (cd "$data" && find . -type f | LC_ALL=C sort | xargs sha1sum)
    echo "${args[*]}"
  } | sha1sum | cut -c1-16)
  local kept="$MODELS/$m-$key"
  if [ ! -d "$kept" ]; then
    mkdir -p "$MODELS"
    "$bin" --log-level warn --threads 2 train --data "$data" "${args[@]}" --out "$kept.part" > /dev/null
    mv "$kept.part" "$kept"
  fi
  cp -r "$kept" "$out"
}
