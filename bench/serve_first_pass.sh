#!/usr/bin/env bash
# First recommendations of a sequential model, two server builds alternated (this machine's speed
# drifts between runs, so only interleaved rounds are compared). Per round and build: a fresh
# server on Beauty.txt (SQLite store seeded by --import), then on loopback with 16 clients unless
# said: 5 s with one client ("c1"), 5 s with 16 ("c16_first": most users' states are built from the
# store; the one-client pass cached about a third), 5 s more ("c16_second": most users cached).
# The model: configs/beauty/$MODEL.yaml trained 3 epochs (serving cost does not depend on training
# length). Writes bench/results/serve_first_pass.json (or $OUT) with every run and the means.
#   SERVER_A=old/driftrec SERVER_B=build/driftrec [MODEL=sasrec] [ROUNDS=3] [SECS=5] bench/serve_first_pass.sh
set -euo pipefail
cd "$(dirname "$0")/.."
a=${SERVER_A:?SERVER_A: the first server binary}
b=${SERVER_B:-build/driftrec}
model=${MODEL:-sasrec}
rounds=${ROUNDS:-3}
secs=${SECS:-5}
out=${OUT:-bench/results/serve_first_pass.json}
data=../shared/data/beauty/Beauty.txt
load=build/bench/serve_load
work=$(mktemp -d)
pid=""
trap '[[ -n $pid ]] && kill $pid 2> /dev/null; rm -rf "$work"' EXIT
build/driftrec --log-level error train --data "$data" --model "$model" --config "configs/beauty/$model.yaml" \
  --set epochs=3 --no-validation --out "$work/model" > /dev/null
echo bench-token > "$work/token"

# run_one BINARY -> one JSON object {c1, c16_first, c16_second} on stdout
run_one() {
  local store port
  store=$(mktemp -d -p "$work")
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$1" --log-level warn serve --model "$work/model" --store "sqlite://$store/events.db" --port "$port" \
    --token-file "$work/token" --import "$data" > "$store/log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/healthz/ready" > /dev/null 2>&1 && break; sleep 0.1; done
  local r1 r2 r3
  r1=$($load recommend --port "$port" --concurrency 1 --seconds "$secs" --users 22363 --user-prefix "" --k 10)
  r2=$($load recommend --port "$port" --concurrency 16 --seconds "$secs" --users 22363 --user-prefix "" --k 10)
  r3=$($load recommend --port "$port" --concurrency 16 --seconds "$secs" --users 22363 --user-prefix "" --k 10)
  kill "$pid"; wait "$pid" 2> /dev/null || true; pid=""
  echo "{\"c1\": $r1, \"c16_first\": $r2, \"c16_second\": $r3}"
}

runs="[]"
for round in $(seq "$rounds"); do
  for side in A B; do
    bin=$a; [[ $side == B ]] && bin=$b
    runs=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r.append({"round": int(sys.argv[2]), "server": sys.argv[3], "result": json.loads(sys.argv[4])}); print(json.dumps(r))' \
      "$runs" "$round" "$side" "$(run_one "$bin")")
  done
done
mkdir -p "$(dirname "$out")"
python3 - "$runs" "$out" "$a" "$b" "$model" "$rounds" "$secs" <<'PY'
import json, os, statistics, sys
runs, out, a, b, model, rounds, secs = json.loads(sys.argv[1]), *sys.argv[2:]
means = {}
for side in ("A", "B"):
    mine = [r["result"] for r in runs if r["server"] == side]
    means[side] = {load: {"requests_per_second": statistics.mean(x[load]["requests_per_second"] for x in mine),
                          "p99_ms": statistics.mean(x[load]["latency_ms"]["p99"] for x in mine)}
                   for load in ("c1", "c16_first", "c16_second")}
res = {"runs": runs, "means": means,
       "config": {"server_a": a, "server_b": b, "model": f"{model}, configs/beauty/{model}.yaml, 3 epochs",
                  "rounds": int(rounds), "seconds_per_load": float(secs), "cores": os.cpu_count(),
                  "command": f"SERVER_A={a} SERVER_B={b} MODEL={model} ROUNDS={rounds} SECS={secs} bench/serve_first_pass.sh"}}
json.dump(res, open(out, "w"), indent=2)
for side in ("A", "B"):
    print(side, " ".join(f"{k}: {v['requests_per_second']:.0f} req/s p99 {v['p99_ms']:.2f} ms" for k, v in means[side].items()))
PY
