"""image_audit at scale: N distinct local images, cold cache then warm cache.

    .venv/bin/python benchmarks/image_audit_scale.py --count 50 --repeat 3

Builds N small images (FROM the locally imported bulwark-test/sleeper, each
with its own file and label, so each has its own id and its own top layer;
labelled bulwark.bench=1 and bulwark.test=1, named --prefix<nnn>:1), then runs
the module through Ansible (`ansible localhost -m bulwark.hardening.image_audit`)
over them:

- cold: an empty cache directory, so every image is scanned (its docker save
  streamed, every layer read);
- warm: the same directory again, so every scan comes from the cache.

Each round records the wall time of the command, the module's duration_s,
API calls per endpoint, bytes streamed from the Engine and the peak RSS of
the module process (the benchmarks/measure.py interpreter wrapper).
The images are removed at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from measure import machine, rss_wrapper  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.bulwark.hardening.tests.integration.adhoc import ansible_env, ensure_farm  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.bulwark.hardening.tests.integration.images import (  # noqa: E402  pylint: disable=wrong-import-position
    SLEEPER_REF, build_image, ensure_sleeper_image,
)

REPOSITORY = "bulwark-bench/image-"
MAX_COUNT = 500


def build_images(api, count, repository=REPOSITORY):
    ids = []
    for index in range(count):
        dockerfile = ("FROM %s\nCOPY bench.txt /etc/bench-%d.txt\nUSER 65534:65534\nLABEL bulwark.bench=1 bench.index=%d\n"
                      % (SLEEPER_REF, index, index))
        ids.append(build_image(api, "%s%03d:1" % (repository, index), dockerfile,
                               {"bench.txt": (("image %d\n" % index).encode(), 0o644)}))
    return ids


def remove_images(api, repository=REPOSITORY):
    for image in api.images(filters={"label": "bulwark.bench=1"}):
        if any(tag.startswith(repository) for tag in image.get("RepoTags") or []):
            api.remove_image(image["Id"], force=True)


def run_module(arguments, wrapper, rss_file):
    command = [os.path.join(os.path.dirname(sys.executable), "ansible"), "localhost", "-m",
               "bulwark.hardening.image_audit", "-a", json.dumps(arguments), "-e", "ansible_python_interpreter=" + wrapper]
    started = time.monotonic()
    completed = subprocess.run(command, capture_output=True, text=True, env=ansible_env(), check=False)
    wall = time.monotonic() - started
    result = json.loads(completed.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    if result.get("failed"):
        raise RuntimeError("module failed: %s" % result.get("msg"))
    with open(rss_file, "r", encoding="ascii") as handle:
        peak_kb, _process_wall, _cpu = handle.read().splitlines()[-1].split()
    return {"wall_s": round(wall, 3), "module_duration_s": result["duration_s"], "peak_rss_mb": round(int(peak_kb) / 1024.0, 1),
            "images": result["images"], "api_calls": result["api_calls"], "api_calls_by_endpoint": result["api_calls_by_endpoint"],
            "bytes_read": result["cache"]["bytes_read"], "hits": result["cache"]["hits"], "misses": result["cache"]["misses"],
            "failed_rules": result["summary"]["failed_rules"]}


def rounds(repeat, repository=REPOSITORY):
    ensure_farm()
    cold, warm = [], []
    with tempfile.TemporaryDirectory(prefix="bulwark-image-bench-") as directory:
        wrapper, rss_file = rss_wrapper(directory)
        for number in range(repeat):
            arguments = {"images": [repository + "*"], "cache_dir": os.path.join(directory, "cache-%d" % number)}
            cold.append(run_module(arguments, wrapper, rss_file))
            warm.append(run_module(arguments, wrapper, rss_file))
    return cold, warm


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--prefix", default=REPOSITORY, help="the images' name prefix (they are removed afterwards)")
    parser.add_argument("--json", help="write the figures to this file too")
    args = parser.parse_args()
    if not 1 <= args.count <= MAX_COUNT:
        parser.error("--count must be 1 to %d" % MAX_COUNT)
    import docker  # pylint: disable=import-outside-toplevel

    api = docker.APIClient(base_url=os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"), version="auto", timeout=120)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    load_before = os.getloadavg()
    try:
        ensure_sleeper_image(api)
        remove_images(api, args.prefix)
        started = time.monotonic()
        build_images(api, args.count, args.prefix)
        build_s = time.monotonic() - started
        cold, warm = rounds(args.repeat, args.prefix)
    finally:
        remove_images(api, args.prefix)
    load_after = os.getloadavg()
    figures = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(),
               "load_average_before": [round(value, 2) for value in load_before],
               "load_average_after": [round(value, 2) for value in load_after],
               "docker": api.version().get("Version"), "count": args.count, "build_s": round(build_s, 1),
               "cold": cold, "warm": warm}
    for name, runs in (("cold", cold), ("warm", warm)):
        print("%s: wall median %.2f s (%s); module %.2f s; peak RSS %.1f MB; bytes read %d; calls %s" % (
            name, statistics.median(r["wall_s"] for r in runs), ", ".join("%.2f" % r["wall_s"] for r in runs),
            statistics.median(r["module_duration_s"] for r in runs), max(r["peak_rss_mb"] for r in runs),
            runs[0]["bytes_read"], json.dumps(runs[0]["api_calls_by_endpoint"], sort_keys=True)))
    print("images audited: %d; failed rules: %s; building took %.1f s" % (cold[0]["images"], cold[0]["failed_rules"], build_s))
    print("load average (1, 5, 15 min) before %s, after %s" % (figures["load_average_before"], figures["load_average_after"]))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
