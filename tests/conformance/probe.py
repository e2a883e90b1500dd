"""The probe every conformance stage runs: it journals what the stage saw, outside the engine.

Not imported by the tests: the engine's shell runs it (python3, standard library only) as
the first and, through an EXIT trap, the last thing of every stage command:

    python3 probe.py start        # one JSON file: stage, matrix shard, whole environment, time
    python3 probe.py end STATUS   # one JSON file: stage, shard, the command's exit status, time

Files go to the directory named by CONFORMANCE_JOURNAL, one per event, named so that
concurrent shards never write the same file. The environment is written as Python decoded it
(UTF-8 with surrogate escapes), so `os.fsencode` gives back the exact bytes the stage got.
A stage killed by its timeout writes no `end`.
"""

import json
import os
import sys
import time
from typing import Any


def main(argv: list[str]) -> int:
    journal = os.environ["CONFORMANCE_JOURNAL"]
    event = argv[1]
    now = time.time()
    record: dict[str, Any] = {
        "event": event,
        "stage": os.environ.get("MLOPS_STAGE"),
        "shard": sorted((k, v) for k, v in os.environ.items() if k.startswith("MLOPS_MATRIX_")),
        "attempt_shell": os.getppid(),  # the `sh -c` running this attempt: pairs start and end
        "time": now,
    }
    if event == "start":
        record["env"] = dict(os.environ)
    else:
        record["status"] = int(argv[2])
    name = f"{time.time_ns()}-{os.getpid()}-{event}.json"
    with open(os.path.join(journal, name), "w", encoding="utf-8", errors="surrogateescape") as handle:
        # ensure_ascii keeps lone surrogates (bytes that were not UTF-8) as \\udcXX escapes
        json.dump(record, handle, ensure_ascii=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
