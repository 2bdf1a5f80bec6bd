# Sourced by bench/serve.sh and bench/serve_mixed.sh: the data (Beauty, else a synthetic catalogue
# of its size), a model trained on it (ials, or SERVE_MODEL), and a server over it. Needs: bin
# (driftrec binary). Sets: model_desc, work, data, data_name, prefix, iprefix, users, items, fingerprint, port, pid.
work=$(mktemp -d)
trap 'kill $pid 2> /dev/null || true; rm -rf "$work"' EXIT
data=../shared/data/beauty/Beauty.txt
data_name="Amazon Beauty (S3Rec Beauty.txt)"
prefix=""
iprefix=""
users=22363
items=12101
if [[ ! -f $data ]]; then
  $bin --log-level warn synth --users 22000 --items 12100 --events-per-user 9 --out "$work/synth" > /dev/null
  data=$work/synth; prefix=u; iprefix=i; users=22000
  data_name="synthetic ecommerce, 22000 users x 12100 items, seed 7 (Beauty.txt absent)"
fi
fingerprint=$($bin --log-level warn data inspect "$data" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["fingerprint"])')
# SERVE_MODEL=sasrec|hstu serves that sequential model with its committed Beauty config, trained for
# 3 epochs only (serving cost does not depend on how well it was trained); default ials.
serve_model=${SERVE_MODEL:-ials}
if [[ $serve_model == ials ]]; then
  model_desc="ials 64 factors, 5 iterations"
  $bin --log-level warn train --data "$data" --model ials --set factors=64 --set iterations=5 --no-validation \
    --out "$work/model" > /dev/null
else
  model_desc="$serve_model, configs/beauty/$serve_model.yaml, 3 epochs"
  $bin --log-level warn train --data "$data" --model "$serve_model" --config "configs/beauty/$serve_model.yaml" \
    --set epochs=3 --no-validation --out "$work/model" > /dev/null
fi
echo bench-token > "$work/token"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')  # free now (the kernel's pick)

# start_server BINARY [extra serve flags...]
start_server() {
  local server_bin=$1; shift
  "$server_bin" --log-level warn serve --model "$work/model" --store "sqlite://$work/events.db" --port $port \
    --token-file "$work/token" --import "$data" "$@" > "$work/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/healthz/ready" > /dev/null 2>&1 && return 0; sleep 0.1; done
  echo "server did not start"; cat "$work/server.log"; exit 1
}
