#!/usr/bin/env bash
# New connection per transaction (pgbench -C): PostgreSQL directly against PgBouncer, in one run, on the demo host.
# Prints both rates and their ratio. Needs `make demo` first. Not a test: it asserts nothing.
#   benchmarks/pgbouncer_connections.sh [SECONDS] [CLIENTS]
set -euo pipefail
cd "$(dirname "$0")/.."

readonly HOST=appstack-demo
readonly DURATION=${1:-10}
readonly CLIENTS=${2:-4}
password=$(cat .cache/demo/app_db_password) || { echo "run 'make demo' first" >&2; exit 1; }

on_host() { docker exec -e PGPASSWORD="$password" -e PGUSER=demo -e PGDATABASE=demo "$HOST" "$@"; }

tps() {
  on_host pgbench -n -C -S -c "$CLIENTS" -j 1 -T "$DURATION" -h 127.0.0.1 -p "$1" 2>&1 \
    | awk '/^tps = / {print $3}'
}

on_host pgbench -i -q -s 1 -h 127.0.0.1 -p 5432 >/dev/null 2>&1
direct=$(tps 5432)
pooled=$(tps 6432)
printf 'pgbench -C -S, %s clients, %ss each, on %s\n' "$CLIENTS" "$DURATION" "$HOST"
printf '%-22s %10s tps\n' "PostgreSQL direct" "$direct" "through PgBouncer" "$pooled"
awk -v d="$direct" -v p="$pooled" 'BEGIN {printf "%-22s %10.2fx\n", "PgBouncer / direct", p / d}'
