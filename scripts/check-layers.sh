#!/usr/bin/env bash
# Fails when a library layer includes a header of a layer it may not use (DESIGN.md's layer
# table as refined in docs/design-notes.md), or when LibTorch is included outside the nn layer.
# Each layer may include only the layers listed before it:
layers=(core privacy data eval rerank train models federated policy ope rl nn tune workflow index store sim report serve)
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
declare -A rank
for i in "${!layers[@]}"; do rank[${layers[$i]}]=$i; done
for layer in "${layers[@]}"; do
  files=$(ls src/"$layer"/*.cpp src/"$layer"/*.h include/driftrec/"$layer"/*.h 2>/dev/null || true)
  [[ -z $files ]] && continue
  while IFS=: read -r file line dep; do
    [[ -z $dep ]] && continue
    if [[ -z ${rank[$dep]+x} ]]; then
      echo "check-layers: $file:$line includes driftrec/$dep/, a layer the table does not know" >&2
      bad=1
    elif (( rank[$dep] > rank[$layer] )); then
      echo "check-layers: $file:$line: layer '$layer' may not include driftrec/$dep/ (it comes after it)" >&2
      bad=1
    fi
  done < <(grep -Hn -o '#include "driftrec/[a-z_]*/' $files | sed 's|#include "driftrec/||; s|/$||')
done
# LibTorch only in the nn layer (and its tests).
while IFS= read -r hit; do
  echo "check-layers: $hit: LibTorch outside src/nn" >&2
  bad=1
done < <(grep -rn '#include <torch/' src include apps python/src | grep -v '^src/nn/' || true)
if (( bad )); then exit 1; fi
echo "check-layers: ${#layers[@]} layers, every include goes up the table; LibTorch only in nn"
