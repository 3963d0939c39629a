#!/usr/bin/env bash
# How long backups and restores take for a database of a given size, on the demo host, so that a user can size
# their maintenance window: a full pgBackRest backup, the restore alone (the drill's, into a scratch directory) and
# a point-in-time restore of the live cluster (checks, restore, WAL replay to the target, PgBouncer paused).
# Needs `make demo` first. Not a test: it asserts nothing. It replaces the demo host's cluster with its state at a
# point in time during the run (the demo app's data is unchanged by then), and leaves the benchmark database's
# backups in the repository until the retention expires them.
#   benchmarks/backup_restore.sh [SIZE_MB]     (default 1024)
set -euo pipefail
cd "$(dirname "$0")/.."

readonly HOST=appstack-demo
readonly SIZE_MB=${1:-1024}
docker exec "$HOST" test -x /usr/local/sbin/appstack-backup || { echo "run 'make demo' first" >&2; exit 1; }

on_host() { docker exec "$HOST" "$@"; }
psql_on_host() { on_host runuser -u postgres -- psql -X -At -v ON_ERROR_STOP=1 "$@"; }
seconds_of() { local started=$SECONDS; "$@" >/dev/null; echo $((SECONDS - started)); }
now_ms() { date +%s%3N; }

# Four fifths pgbench tables (about 15 MB per scale unit), one fifth a table of 384-dimension embeddings
# (about 1.6 kB a row), as an AI app's database holds both.
scale=$(( SIZE_MB * 4 / 5 / 15 + 1 ))
vectors=$(( SIZE_MB * 128 ))
psql_on_host -c "DROP DATABASE IF EXISTS bench_backup" -c "CREATE DATABASE bench_backup" >/dev/null
on_host runuser -u postgres -- pgbench -i -q -s "$scale" bench_backup >/dev/null 2>&1
psql_on_host -d bench_backup -c "CREATE EXTENSION vector" -c "CREATE TABLE embeddings AS
  SELECT g AS id, (SELECT array_agg(random())::vector(384) FROM generate_series(1, 384) WHERE g > 0) AS embedding
  FROM generate_series(1, $vectors) g" >/dev/null
size=$(psql_on_host -c "SELECT pg_size_pretty(pg_database_size('bench_backup'))")

backup_seconds=$(seconds_of on_host /usr/local/sbin/appstack-backup postgresql --type full --repo 1)
psql_on_host -d bench_backup -c "CREATE TABLE after_backup AS SELECT 1 AS x" >/dev/null
target=$(psql_on_host -c "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00:00'")
psql_on_host -d bench_backup -c "CREATE TABLE after_target AS SELECT 1 AS x" >/dev/null

on_host /usr/local/sbin/appstack-backup drill --repo 1 >/dev/null
restore_only=$(on_host python3 -c "import json; print(json.load(open('/var/lib/appstack/backups.json'))['drill']['last']['repos']['repo1']['restore_seconds'])")

started=$(now_ms)
result=$(on_host /usr/local/sbin/appstack-backup restore-postgresql --confirm --time "$target" --repo 1)
pitr_ms=$(( $(now_ms) - started ))
on_host rm -rf "$(printf '%s' "$result" | python3 -c 'import json, sys; print(json.load(sys.stdin)["previous_data_dir"])')"
reached=$(psql_on_host -d bench_backup -c "SELECT to_regclass('after_backup') IS NOT NULL AND to_regclass('after_target') IS NULL")
psql_on_host -c "DROP DATABASE bench_backup" >/dev/null

printf 'database bench_backup: %s (pgbench scale %s, %s embeddings of 384 dimensions), on %s\n' \
  "$size" "$scale" "$vectors" "$HOST"
printf '%-46s %8s s\n' "full backup (repo1, zstd, aes-256-cbc)" "$backup_seconds"
printf '%-46s %8s s\n' "restore of that backup alone (the drill's)" "$restore_only"
printf '%-46s %8.1f s  (target reached: %s)\n' "point-in-time restore of the live cluster" "$(echo "$pitr_ms / 1000" | bc -l)" \
  "$([ "$reached" = t ] && echo yes || echo NO)"
