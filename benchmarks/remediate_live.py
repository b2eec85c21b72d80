"""container_remediate live fixes at scale: N running containers fixed in one module call.

    .venv/bin/python benchmarks/remediate_live.py --count 50 --repeat 3

Each round starts N containers of the locally built bulwark-test/sleeper
image without limits (label bulwark.bench=1), runs `ansible localhost -m
bulwark.hardening.container_remediate` with a memory, CPU-shares and PIDs
policy over them (rules 5.11, 5.12, 5.29), checks that every one was
fixed, then runs it again (nothing left to fix) and removes the containers.
Printed per round: the whole command's wall time, the module's own
duration_s, and the API calls by endpoint. Containers are removed at the
end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# measure puts the collection on the import path (tests/farm.py).
import measure  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
from ansible_collections.bulwark.hardening.tests.integration.adhoc import run_module  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.bulwark.hardening.tests.integration.images import (  # noqa: E402  pylint: disable=wrong-import-position
    SLEEPER_REF, ensure_sleeper_image,
)

LABELS = {"bulwark.bench": "1", "bulwark.test": "1"}
PREFIX = "bulwark-bench-rm-"
POLICY = {"memory": "64m", "cpu_shares": 512, "pids_limit": 64}
ARGS = {"containers": [PREFIX + "*"], "labels": ["bulwark.bench=1"], "rules": ["5.11", "5.12", "5.29"], "policy": POLICY}
CREATE_WORKERS = 8


def start_containers(api, count):
    def start(index):
        created = api.create_container(SLEEPER_REF, name="%s%03d" % (PREFIX, index), labels=LABELS, stop_timeout=1)
        api.start(created["Id"])
    with ThreadPoolExecutor(max_workers=CREATE_WORKERS) as pool:
        list(pool.map(start, range(count)))


def remove_containers(api):
    for container in api.containers(all=True, filters={"label": "bulwark.bench=1", "name": PREFIX}):
        api.remove_container(container["Id"], force=True)


def one_round(api, count):
    start_containers(api, count)
    try:
        first = run_module("container_remediate", ARGS)
        summary = first.result.get("summary") or {}
        if first.result.get("failed") or summary.get("live") != count:
            raise SystemExit("remediation did not fix %d containers: %s" % (count, first.result.get("msg") or summary))
        second = run_module("container_remediate", ARGS)
        if second.result.get("changed"):
            raise SystemExit("the second run changed something: %s" % second.result.get("summary"))
        return {
            "command_s": round(first.seconds, 2), "module_s": first.result["duration_s"],
            "api_calls": first.result["api_calls_by_endpoint"],
            "second_command_s": round(second.seconds, 2), "second_module_s": second.result["duration_s"],
        }
    finally:
        remove_containers(api)


def main():
    import docker  # pylint: disable=import-outside-toplevel

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    api = docker.APIClient(version="auto", timeout=120)
    ensure_sleeper_image(api)
    remove_containers(api)
    print("date: %s; machine: %s, %d cores, Python %s, Docker %s" % (
        time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), platform.platform(), os.cpu_count(),
        platform.python_version(), api.version()["Version"]))
    rounds = []
    for number in range(options.repeat):
        rounds.append(one_round(api, options.count))
        print("round %d: %s" % (number + 1, json.dumps(rounds[-1], sort_keys=True)))
    for key in ("command_s", "module_s", "second_command_s", "second_module_s"):
        print("median %s: %.2f" % (key, statistics.median(entry[key] for entry in rounds)))


if __name__ == "__main__":
    main()
