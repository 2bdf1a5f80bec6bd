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

# drift_shop BIN USERS ITEMS SETTING DIR: the sweep's shop (seed 7) at a setting, written to DIR.
drift_shop() {
  # shellcheck disable=SC2086  # the setting's flags are several words
  "$1" --log-level warn synth --preset ecommerce --users "$2" --items "$3" --seed 7 ${flags[$4]} --out "$5" > /dev/null
}
