#!/usr/bin/env bash
# Off-policy estimates against the simulator's exact truth, over seeded repeats (see
# bench/ope_sim.cpp), for two logging policies: Boltzmann (T=0.5; little overlap with greedy) and
# epsilon-greedy (0.3); the target is greedy. Writes bench/results/ope_sim_{boltzmann,epsilon}.json.
#   bench/ope_sim.sh [repeats=50] [rounds=10000]
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-50}
rounds=${2:-10000}
b=${BENCH_DIR:-build/bench}/bench_ope_sim
[[ -x $b ]] || { echo "build first: cmake --build build --target bench_ope_sim" >&2; exit 1; }
mkdir -p bench/results
for logging in boltzmann:temperature=0.5,candidates=50 epsilon-greedy:epsilon=0.3,candidates=50; do
  name=${logging%%:*}
  name=${name%%-*}
  "$b" "$repeats" "$rounds" "bench/results/ope_sim_$name.json" "$logging" greedy
  python3 bench/provenance.py "bench/results/ope_sim_$name.json" --command "bench/ope_sim.sh $*" \
    --note "world generated in the benchmark: synth ecommerce, 1000 users, 2000 items, seed 42; ials trained on all of it"
done
