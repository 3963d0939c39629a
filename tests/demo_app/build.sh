#!/usr/bin/env bash
# Builds the demo app's test variants as appstack-demo-app:<variant>, and saves them to one tarball for
# loading into a host's own Docker engine. Reused when the sources and the base image are unchanged.
# A variant is tag:behaviour:migrations (the Alembic revisions the release ships, comma separated).
set -euo pipefail
cd "$(dirname "$0")"

readonly OUTPUT=${1:-../../.cache/demo-app-images.tar}
readonly VARIANTS="v1:healthy:0001,0002 v2:healthy:0001,0002,0003 broken:broken:0001,0002,0003
  slow:slow:0001,0002,0003 degrading:degrading:0001,0002,0003 routesbroken:routes-broken:0001,0002,0003
  badmigration:healthy:0001,0002,0003,0004 partialmigration:healthy:0001,0002,0003,0005
  strict:strict:0001,0002,0003"

# Scenarios running side by side build the same images: one at a time, the second finds them made.
mkdir -p "$(dirname "$OUTPUT")"
exec 9>"$OUTPUT.lock"
flock 9

stamp=$( { cat app.py Dockerfile alembic.ini; find migrations -type f -name '*.py*' | sort | xargs cat; docker image inspect -f '{{.Id}}' appstack-base:trixie; } | sha256sum | cut -c1-12)
if [ -f "$OUTPUT" ] && [ "$(cat "$OUTPUT.stamp" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi
for variant in $VARIANTS; do
  IFS=: read -r tag behaviour migrations <<<"$variant"
  docker build -q --build-arg APP_VERSION="$tag" --build-arg APP_BEHAVIOUR="$behaviour" \
    --build-arg APP_MIGRATIONS="${migrations//,/ }" \
    -t "appstack-demo-app:$tag" . >/dev/null 2>"$OUTPUT.build.log" || { cat "$OUTPUT.build.log" >&2; exit 1; }
done
# shellcheck disable=SC2046
docker save -o "$OUTPUT" $(for variant in $VARIANTS; do echo "appstack-demo-app:${variant%%:*}"; done)
echo "$stamp" >"$OUTPUT.stamp"
