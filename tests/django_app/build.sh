#!/usr/bin/env bash
# Builds the Django test site's releases as appstack-django-app:<tag> and saves them to one tarball for loading
# into a host's own Docker engine. Reused when the sources and the base image are unchanged.
# A release is tag:migrations (app.number of the Django migrations it ships, comma separated).
set -euo pipefail
cd "$(dirname "$0")"

readonly OUTPUT=${1:-../../.cache/django-app-images.tar}
readonly RELEASES="v1:notes.0001,tags.0001 v2:notes.0001,notes.0002,tags.0001"

mkdir -p "$(dirname "$OUTPUT")"
exec 9>"$OUTPUT.lock"
flock 9

stamp=$( { find . -type f ! -name '*.pyc' | sort | xargs cat; docker image inspect -f '{{.Id}}' appstack-base:trixie; } \
  | sha256sum | cut -c1-12)
if [ -f "$OUTPUT" ] && [ "$(cat "$OUTPUT.stamp" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi
for release in $RELEASES; do
  IFS=: read -r tag migrations <<<"$release"
  docker build -q --build-arg APP_VERSION="$tag" --build-arg APP_MIGRATIONS="${migrations//,/ }" \
    -t "appstack-django-app:$tag" . >/dev/null 2>"$OUTPUT.build.log" || { cat "$OUTPUT.build.log" >&2; exit 1; }
done
# shellcheck disable=SC2046
docker save -o "$OUTPUT" $(for release in $RELEASES; do echo "appstack-django-app:${release%%:*}"; done)
echo "$stamp" >"$OUTPUT.stamp"
