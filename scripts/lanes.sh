# shellcheck shell=bash
# Sourced by test.sh: a queue of items, each a file named by its place (000, 001, ...) and holding the item, that
# several lanes (background jobs) work through side by side.

# queue_lane QUEUE LANE COMMAND...: runs `COMMAND ITEM` for the queue's next entry, again and again, until no entry
# is left. mv is atomic: the lane that moves an entry away runs it. An entry of a lane's list that another lane moved
# since the list was read is skipped, not taken for the end of the queue (that left a lane idle with scenarios still
# queued: CI ran on two lanes of three).
queue_lane() {
  local queue=$1 lane=$2 entry
  shift 2
  while true; do
    for entry in "$queue"/[0-9][0-9][0-9]; do
      if [ -e "$entry" ] && mv "$entry" "$entry.taken-by-$lane" 2>/dev/null; then
        "$@" "$(cat "$entry.taken-by-$lane")"
        continue 2
      fi
    done
    return 0
  done
}
