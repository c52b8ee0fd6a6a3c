#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1 for the tests and for trying recur on PostgreSQL:
#     tools/pg.sh start DIR    # initdb in DIR, start on a free port; prints the URL recur takes (--db)
#     tools/pg.sh stop DIR     # stop it and remove DIR
#     tools/pg.sh run CMD ...  # CMD with RECUR_TEST_PG naming a server started for it (none if there are
#                              # no server binaries, or RECUR_TEST_PG is already set): how `make test` runs
# It uses the server binaries of the machine (initdb, pg_ctl: Debian's postgresql package, or
# /usr/lib/postgresql/*/bin). As root it runs them as the `postgres` user, since PostgreSQL refuses root.
set -euo pipefail
cmd=${1:?start, stop or run}
if [ "$cmd" = run ]; then
  shift
  if [ -z "${RECUR_TEST_PG:-}" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    tmp=$(mktemp -d) && chmod 755 "$tmp"  # the server runs as postgres when this runs as root
    trap '"$0" stop "$tmp/pg"; rm -rf "$tmp"' EXIT
    trap 'exit 143' INT TERM  # stopped: still stop the server
    if RECUR_TEST_PG=$("$0" start "$tmp/pg"); then
      export RECUR_TEST_PG
      echo "PostgreSQL for the tests: $RECUR_TEST_PG" >&2
    else
      unset RECUR_TEST_PG
      echo "could not start PostgreSQL; its tests will be skipped (or fail under CI)" >&2
    fi
  fi
  "$@"
  exit
fi
dir=${2:?a directory for the cluster}
bin=$(dirname "$(readlink -f "$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1 \
  || command -v initdb)" 2>/dev/null)")
[ -x "$bin/initdb" ] || { echo "no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 2; }
as=()
if [ "$(id -u)" = 0 ]; then as=(runuser -u postgres --); fi
case $cmd in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${as[@]}" "$bin/initdb" -D "$dir/data" -U recur --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -s \
      -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c max_connections=200" start
    "${as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U recur recur
    echo "postgresql+psycopg://recur@127.0.0.1:$port/recur"
    ;;
  stop)
    [ -d "$dir/data" ] && "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w -s stop || true
    rm -rf "$dir"
    ;;
  *) echo "usage: tools/pg.sh start|stop DIR" >&2; exit 2 ;;
esac
