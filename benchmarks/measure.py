"""What the benchmarks share, imported as `measure` by each of them (run from the checkout as
.venv/bin/python benchmarks/<name>.py): the collection's one import path (tests/farm.py, as the tests use it),
the bench fleet (containers labelled bulwark.bench=1 and bulwark.test=1 on the locally built sleeper image, all
removed at the end), the interpreter wrapper that measures a module process, and the machine's description and
load."""

from __future__ import annotations

import os
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests"))
import farm  # noqa: E402  pylint: disable=wrong-import-position

farm.link()

from ansible_collections.bulwark.hardening.tests.integration.images import (  # noqa: E402  pylint: disable=wrong-import-position
    ensure_sleeper_image, import_image,
)
from ansible_collections.bulwark.hardening.tests.integration import adhoc  # noqa: E402  pylint: disable=wrong-import-position

BENCH_LABEL = {"bulwark.bench": "1", "bulwark.test": "1"}
BENCH_IMAGE = "bulwark-bench/sleeper"
MAX_COUNT = 1000
CREATE_WORKERS = 8


def ansible_env():
    """The environment ansible and ansible-playbook run in, as the tests run them: the checkout's collection first
    (tests/integration/adhoc.py)."""
    return adhoc.ansible_env()


def ensure_farm():
    """The symlink farm that makes the checkout importable and findable as bulwark.hardening (tests/farm.py)."""
    farm.link()


def _container_settings(api, index):
    """A mix of configurations, so rules see hardened, default and weak containers."""
    kind = index % 4
    if kind == 0:  # hardened
        host_config = api.create_host_config(read_only=True, cap_drop=["ALL"], security_opt=["no-new-privileges"],
                                             mem_limit="16m", pids_limit=16, network_mode="none",
                                             restart_policy={"Name": "on-failure", "MaximumRetryCount": 5})
        return {"user": "65534:65534", "host_config": host_config}
    if kind == 1:  # defaults
        return {"host_config": api.create_host_config(network_mode="none")}
    if kind == 2:  # weak: capabilities, writable host path
        return {"host_config": api.create_host_config(cap_add=["NET_ADMIN"], network_mode="none",
                                                      binds=["/tmp:/host-tmp:rw"])}
    return {"environment": {"APP_TOKEN": "bench-%06d-Zq8xTr4Lm2Vb7Nc5" % index},  # a secret, for BW-001
            "host_config": api.create_host_config(network_mode="none", mem_limit="32m")}


def start_containers(api, images, count):
    def start(index):
        settings = _container_settings(api, index)
        created = api.create_container(images[index % len(images)], name="bulwark-bench-%04d" % index,
                                       labels=BENCH_LABEL, **settings)
        api.start(created["Id"])
    with ThreadPoolExecutor(max_workers=CREATE_WORKERS) as pool:
        list(pool.map(start, range(count)))


def remove_everything(api):
    containers = api.containers(all=True, filters={"label": "bulwark.bench=1"})
    with ThreadPoolExecutor(max_workers=CREATE_WORKERS) as pool:
        list(pool.map(lambda c: api.remove_container(c["Id"], force=True), containers))
    for image in api.images(name=BENCH_IMAGE):
        api.remove_image(image["Id"], force=True)
    return len(containers)


def bench_images(api, count):
    """The sleeper image plus count-1 distinct variants (different config, so different ids)."""
    images = [ensure_sleeper_image(api)]
    for number in range(1, count):
        images.append(import_image(api, BENCH_IMAGE, tag="v%d" % number,
                                   extra_changes=["LABEL bulwark.bench.variant=%d" % number]))
    return images


RSS_WRAPPER = """#!%(python)s
# Runs the module's interpreter as a child; records its peak RSS (kB), wall time (s) and CPU time (s).
import resource, subprocess, sys, time
started = time.monotonic()
rc = subprocess.call([%(python)r] + sys.argv[1:])
wall = time.monotonic() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(%(out)r, "a") as handle:
    handle.write("%%d %%.3f %%.3f\\n" %% (usage.ru_maxrss, wall, usage.ru_utime + usage.ru_stime))
sys.exit(rc)
"""


def rss_wrapper(directory):
    """An interpreter wrapper for ansible_python_interpreter that measures the module process exactly."""
    script = os.path.join(directory, "python-peak-rss")
    out = os.path.join(directory, "peak-rss-kb")
    with open(script, "w", encoding="utf-8") as handle:
        handle.write(RSS_WRAPPER % {"python": sys.executable, "out": out})
    os.chmod(script, 0o755)
    return script, out


def cpu_times():
    with open("/proc/stat", "r", encoding="ascii") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    return sum(fields), fields[3] + fields[4]  # total, idle + iowait


def background_busy(window=2.0):
    """Percentage of CPU time the host spent busy over a short window (nothing of ours running)."""
    total_before, idle_before = cpu_times()
    time.sleep(window)
    total_after, idle_after = cpu_times()
    return round(100.0 * (1 - (idle_after - idle_before) / float(max(total_after - total_before, 1))), 1)


def wait_for_quiet(limit_s=60, busy_below=20.0):
    """After starting hundreds of containers dockerd and the shims settle for a while: wait for it."""
    deadline = time.monotonic() + limit_s
    busy = background_busy()
    while busy >= busy_below and time.monotonic() < deadline:
        busy = background_busy()
    return busy


def machine():
    with open("/proc/meminfo", "r", encoding="ascii") as handle:
        mem_kb = int(handle.readline().split()[1])
    return {"cpus": os.cpu_count(), "memory_gib": round(mem_kb / 1024.0 / 1024.0, 1), "kernel": platform.release(),
            "python": platform.python_version()}
