"""The startup heap, frozen out of the collector's reach (in a process of its own: freezing is for
the life of a process)."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import gc, json
from hub import freeze_startup_heap
from hub.heap import SERVING_THRESHOLDS
built_at_startup = [[index] for index in range(1_000)]
frozen = freeze_startup_heap()
made_later = [0]
tracked = {id(candidate) for candidate in gc.get_objects()}
print(json.dumps({
    "frozen": frozen,
    "startup_tracked": id(built_at_startup[0]) in tracked,
    "later_tracked": id(made_later) in tracked,
    "thresholds_set": gc.get_threshold() == SERVING_THRESHOLDS,
}))
"""


def test_objects_alive_at_startup_are_left_out_of_later_collections() -> None:
    probe = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60)

    result = json.loads(probe.stdout)
    assert result["frozen"] >= 1_000
    assert result == {
        "frozen": result["frozen"],
        "startup_tracked": False,
        "later_tracked": True,
        "thresholds_set": True,
    }
