#!/usr/bin/env bash
# A private PostgreSQL server for the tests, never a system service: initdb into a fresh directory
# and pg_ctl on a free private port (TCP on 127.0.0.1 only, its unix socket in that directory).
# Run as root, the server runs as the `postgres` user (initdb refuses root).
#   postgres_server.sh start DIR   # writes the admin URL to DIR/url and prints it
#   postgres_server.sh stop DIR    # stops the server and removes DIR
#   postgres_server.sh pause DIR   # stops the server, keeping its data (a database outage)
#   postgres_server.sh resume DIR  # starts it again on the same port
set -euo pipefail
cmd=${1:-}; dir=${2:-}
[[ -n $dir && $cmd =~ ^(start|stop|pause|resume)$ ]] || { echo "usage: $0 start|stop|pause|resume DIR" >&2; exit 2; }
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [[ -z $bindir || ! -x $bindir/initdb ]]; then
  echo "postgres_server.sh: no PostgreSQL server binaries (scripts/install-deps.sh installs postgresql)" >&2
  exit 1
fi
as_owner() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case $cmd in
  start)
    [[ -f $dir/data/postmaster.pid ]] && as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    mkdir -p "$dir"
    if [[ $(id -u) == 0 ]]; then
      chown postgres "$dir"
      runuser -u postgres -- test -w "$dir" ||
        { echo "postgres_server.sh: the postgres user cannot reach $dir (a parent directory is not traversable)" >&2; exit 1; }
    fi
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-instructions >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    for attempt in 1 2 3 4 5; do
      port=$((20000 + RANDOM % 30000))
      if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
          -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null 2>&1; then
        url="postgresql://postgres@127.0.0.1:$port/postgres"
        echo "$url" > "$dir/url"
        echo "$port" > "$dir/port"
        echo "$url"
        exit 0
      fi
    done
    cat "$dir/server.log" >&2
    exit 1 ;;
  pause)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null ;;
  resume)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $(cat "$dir/port") -k $dir -c listen_addresses=127.0.0.1" start >/dev/null ;;
  stop)
    [[ -d $dir/data ]] && as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir" ;;
esac
