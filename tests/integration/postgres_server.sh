#!/usr/bin/env bash
# A private PostgreSQL server for the tests, never a system service: initdb into a fresh
# directory under /tmp (reachable by the server's user wherever the checkout lives) and pg_ctl on
# a free private port (TCP on 127.0.0.1 only, its unix socket in that directory). Run as root, the
# server runs as the `postgres` user (initdb refuses root). DIR keeps the URL, port and data path.
#   postgres_server.sh start DIR   # writes the admin URL to DIR/url and prints it
#   postgres_server.sh stop DIR    # stops the server and removes its data and DIR
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
data_of() { cat "$dir/datadir" 2> /dev/null || true; }
ctl_start() {  # data dir, port
  as_owner "$bindir/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 60 \
    -o "-p $2 -k $1 -c listen_addresses=127.0.0.1" start > /dev/null 2>&1
}
case $cmd in
  start)
    old=$(data_of)
    if [[ -n $old && -d $old ]]; then
      as_owner "$bindir/pg_ctl" -D "$old/data" -m immediate -w stop > /dev/null 2>&1 || true
      rm -rf "$old"
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    base=/tmp
    [[ $(id -u) != 0 && -n ${TMPDIR:-} ]] && base=$TMPDIR
    data=$(mktemp -d "$base/driftrec-pg.XXXXXX")
    chmod 755 "$data"
    echo "$data" > "$dir/datadir"
    [[ $(id -u) == 0 ]] && chown postgres "$data"
    as_owner "$bindir/initdb" -D "$data/data" -U postgres --auth=trust -E UTF8 --no-instructions > "$data/initdb.log" 2>&1 ||
      { cat "$data/initdb.log" >&2; exit 1; }
    for attempt in 1 2 3 4 5; do
      port=$((20000 + RANDOM % 30000))
      if ctl_start "$data" "$port"; then
        url="postgresql://postgres@127.0.0.1:$port/postgres"
        echo "$url" > "$dir/url"
        echo "$port" > "$dir/port"
        echo "$url"
        exit 0
      fi
    done
    cat "$data/server.log" >&2
    exit 1 ;;
  pause)
    as_owner "$bindir/pg_ctl" -D "$(data_of)/data" -m fast -w stop > /dev/null ;;
  resume)
    ctl_start "$(data_of)" "$(cat "$dir/port")" ;;
  stop)
    data=$(data_of)
    if [[ -n $data && -d $data ]]; then
      as_owner "$bindir/pg_ctl" -D "$data/data" -m fast -w stop > /dev/null 2>&1 || true
      rm -rf "$data"
    fi
    rm -rf "$dir" ;;
esac
