"""The test harness's lanes (scripts/lanes.sh): every queued scenario runs once, whichever lane takes it."""

import subprocess

from collection_layout import PROJECT


def queue_of(tmp_path, items):
    queue = tmp_path / "queue"
    queue.mkdir()
    for index, item in enumerate(items):
        (queue / f"{index:03d}").write_text(item)
    return queue


def bash(script, queue):
    return subprocess.run(
        ["bash", "-c", f"set -u; source scripts/lanes.sh; {script}", "lanes-test", str(queue)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()


def test_a_lane_skips_entries_other_lanes_took_after_it_read_the_queue_and_runs_the_rest(tmp_path):
    queue = queue_of(tmp_path, ["stack", "cluster", "app", "nginx"])
    # Between this lane's reading of the queue and its first mv, two other lanes took the first two entries.
    script = f"""
        taken=0
        mv() {{
          if [ "$taken" = 0 ]; then
            taken=1
            command mv {queue}/000 {queue}/000.taken-by-2
            command mv {queue}/001 {queue}/001.taken-by-3
            return 1
          fi
          command mv "$@"
        }}
        queue_lane "$1" 1 echo
    """
    assert bash(script, queue) == ["app", "nginx"]


def test_three_lanes_side_by_side_run_every_entry_once(tmp_path):
    items = [f"scenario{index}" for index in range(12)]
    queue = queue_of(tmp_path, items)
    script = 'for lane in 1 2 3; do queue_lane "$1" "$lane" echo & done; wait'
    assert sorted(bash(script, queue)) == sorted(items)
    assert sorted(path.name.split(".")[0] for path in queue.iterdir()) == [f"{index:03d}" for index in range(12)]
