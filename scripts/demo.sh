#!/usr/bin/env bash
# Installs the dependencies (Debian packages), builds DriftRec and runs the main job on generated
# data: train every classic model, compare them, and show one user's recommendations moving live.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target driftrec
scripts/install-python.sh build  # import driftrec (docs/python.md)
build/driftrec demo "$@"
