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

# drift_synth_args USERS ITEMS SETTING: the `driftrec` arguments of the sweep's shop (seed 7) at a
# setting, one line (for the provenance's data description too).
drift_synth_args() {
  echo "synth --preset ecommerce --users $1 --items $2 --seed 7 ${flags[$3]}"
}

# drift_shop BIN USERS ITEMS SETTING DIR: that shop, written to DIR.
drift_shop() {
  # shellcheck disable=SC2046  # the arguments are several words
  "$1" --log-level warn $(drift_synth_args "$2" "$3" "$4") --out "$5" > /dev/null
}
