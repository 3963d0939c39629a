#!/usr/bin/env bash
# PgBouncer against PostgreSQL directly, on the demo host, in one run: a new connection per transaction (pgbench -C,
# every login a SCRAM exchange and, through PgBouncer, an auth_query lookup) and persistent connections. Prints the
# rates, their ratios, and the CPU each side used: pgbench's own SCRAM (PBKDF2 over the verifier's iterations) is
# paid in both columns, so a ratio that stops rising with PgBouncer's CPU far from a core is the client's limit.
# The new-connection rows are repeated with the demo login's verifier made at fewer iterations (ITERATIONS, a list;
# PostgreSQL's `scram_iterations`, which the postgresql role's module reads when it stores a password): the figures
# for deciding that setting. The login's verifier is put back as it was at the end.
# Needs `make demo` first. Not a test: it asserts nothing.
#   [ITERATIONS="1024 256"] benchmarks/pgbouncer_connections.sh [SECONDS] [CLIENTS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."

readonly HOST=appstack-demo
readonly DURATION=${1:-10}
readonly CLIENTS=${2:-20}
readonly THREADS=${3:-2}
readonly ITERATIONS=${ITERATIONS-1024}
password=$(cat .cache/demo/app_db_password) || { echo "run 'make demo' first" >&2; exit 1; }

on_host() { docker exec -e PGPASSWORD="$password" -e PGUSER=demo -e PGDATABASE=demo "$HOST" "$@"; }

# CPU seconds (user + system) PgBouncer's process has used so far.
pgbouncer_cpu() {
  local pid
  pid=$(on_host systemctl show -P MainPID pgbouncer)
  on_host cut -d" " -f14,15 "/proc/$pid/stat" \
    | awk -v hz="$(on_host getconf CLK_TCK)" '{print ($1 + $2) / hz}'
}

# tps PORT [pgbench options]: the rate, then PgBouncer's CPU share of one core during the run.
tps() {
  local port=$1 before after rate; shift
  before=$(pgbouncer_cpu)
  rate=$(on_host pgbench -n "$@" -S -c "$CLIENTS" -j "$THREADS" -T "$DURATION" -h 127.0.0.1 -p "$port" 2>&1 \
    | awk '/^tps = / {print $3}')
  after=$(pgbouncer_cpu)
  awk -v r="$rate" -v b="$before" -v a="$after" -v d="$DURATION" 'BEGIN {printf "%.1f %.0f\n", r, (a - b) * 100 / d}'
}

on_host pgbench -i -q -s 1 -h 127.0.0.1 -p 5432 >/dev/null 2>&1
printf 'pgbench -S, %s clients, %s threads, %ss each, on %s (%s cores)\n' "$CLIENTS" "$THREADS" "$DURATION" "$HOST" \
  "$(on_host nproc)"
printf '%-34s %10s %10s %10s %16s\n' "" "direct" "PgBouncer" "ratio" "PgBouncer CPU"
# The direct runs need the server's slots that PgBouncer's idle server connections hold (a small host's
# max_connections is small): PgBouncer closes them (RECONNECT, as they are released) before those runs.
release_pgbouncer_servers() {
  local deadline=$((SECONDS + 60))
  docker exec -e PGPASSWORD="$admin_password" "$HOST" psql -qAt -h 127.0.0.1 -p 6432 -U pgbouncer_admin pgbouncer \
    -c 'RECONNECT' >/dev/null
  until [ "$(on_host psql -qAt -h 127.0.0.1 -p 5432 -c "SELECT count(*) FROM pg_stat_activity
             WHERE usename = current_user AND client_addr IS NULL")" = 0 ]; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "PgBouncer still holds server connections after 60 s" >&2; exit 1; }
    sleep 0.5
  done
}
admin_password=$(cat .cache/demo/pgbouncer_admin_password)
release_pgbouncer_servers
read -r direct_new _ <<<"$(tps 5432 -C)"
read -r direct_kept _ <<<"$(tps 5432)"
read -r pooled_new cpu_new <<<"$(tps 6432 -C)"
read -r pooled_kept cpu_kept <<<"$(tps 6432)"
row() {
  awk -v m="$1" -v d="$2" -v p="$3" -v c="$4" 'BEGIN {printf "%-34s %10.1f %10.1f %9.2fx %15s%%\n", m, d, p, p / d, c}'
}
row "new connection per transaction" "$direct_new" "$pooled_new" "$cpu_new"
row "persistent connections" "$direct_kept" "$pooled_kept" "$cpu_kept"

as_postgres() { docker exec -i "$HOST" runuser -u postgres -- psql -XqAt -v ON_ERROR_STOP=1 "$@"; }
verifier=$(as_postgres -c "SELECT rolpassword FROM pg_authid WHERE rolname = 'demo'")
restore_verifier() { as_postgres -v verifier="$verifier" <<<"ALTER ROLE demo PASSWORD :'verifier';"; }
trap restore_verifier EXIT
for iterations in $ITERATIONS; do
  as_postgres -v password="$password" <<SQL
SET scram_iterations = $iterations;
ALTER ROLE demo PASSWORD :'password';
SQL
  release_pgbouncer_servers
  read -r direct_new _ <<<"$(tps 5432 -C)"
  read -r pooled_new cpu_new <<<"$(tps 6432 -C)"
  row "new connection, $iterations iterations" "$direct_new" "$pooled_new" "$cpu_new"
done
