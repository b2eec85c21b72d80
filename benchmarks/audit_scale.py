"""container_audit at scale: N containers, timed three ways in one run.

    .venv/bin/python benchmarks/audit_scale.py --count 500

1. the library call (gather + evaluate + summarize, in this process);
2. the module through Ansible (`ansible localhost -m bulwark.hardening.container_audit`):
   wall time of the command, the module's own duration, API calls, and the
   peak RSS of the module process (its interpreter runs under a small wrapper
   that reads getrusage(RUSAGE_CHILDREN).ru_maxrss when it exits);
3. the shell-script way: one `docker inspect --format <field>` process per
   check per container, for 20 section-5 checks. It runs on a sample of
   containers (--baseline-sample) and is extrapolated to N; the output says so;
4. with --docker-bench DIR, Docker Bench for Security on the same containers
   (`-i bulwark-bench-`: every section, its container checks on these
   containers only), timed in the same run: the ratio of its wall time to the
   `ansible` command's (end to end, both). benchmarks/docker_bench_side_by_side.py
   compares their verdicts.

Containers run the locally built bulwark-test/sleeper image (and --images
variants of it, for distinct image inspects), labelled bulwark.bench=1 and
bulwark.test=1, and are all removed at the end, also on failure or Ctrl-C.
The audit is restricted to them with label_filter bulwark.bench=1.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from docker_bench_side_by_side import docker_bench_revision, run_docker_bench
from measure import (
    CREATE_WORKERS, MAX_COUNT, bench_images, machine, remove_everything, rss_wrapper, start_containers, wait_for_quiet,
)
from ansible_collections.bulwark.hardening.tests.integration.adhoc import ansible_env, ensure_farm  # pylint: disable=wrong-import-order

# The default scope's documented extras beyond containers + images + 2 (container_audit's docs): section 6's
# image list and list of every container, and on a swarm manager section 7's node, network and secret lists.
SECTION_6_CALLS = 2
SWARM_MANAGER_CALLS = 3

# The per-check baseline: one `docker inspect --format` per check per container,
# the fields shell implementations read for these section-5 checks.
BASELINE_CHECKS = (
    ("5.2", "{{ .AppArmorProfile }}"),
    ("5.3", "{{ .HostConfig.SecurityOpt }}"),
    ("5.4", "{{ .HostConfig.CapAdd }}"),
    ("5.5", "{{ .HostConfig.Privileged }}"),
    ("5.6", "{{ .Mounts }}"),
    ("5.8", "{{ .NetworkSettings.Ports }}"),
    ("5.10", "{{ .HostConfig.NetworkMode }}"),
    ("5.11", "{{ .HostConfig.Memory }}"),
    ("5.12", "{{ .HostConfig.CpuShares }}"),
    ("5.13", "{{ .HostConfig.ReadonlyRootfs }}"),
    ("5.15", "{{ .HostConfig.RestartPolicy.MaximumRetryCount }}"),
    ("5.16", "{{ .HostConfig.PidMode }}"),
    ("5.17", "{{ .HostConfig.IpcMode }}"),
    ("5.18", "{{ .HostConfig.Devices }}"),
    ("5.20", "{{range $m := .Mounts}}{{json $m.Propagation}}{{end}}"),
    ("5.21", "{{ .HostConfig.UTSMode }}"),
    ("5.22", "{{ .HostConfig.SecurityOpt }}"),
    ("5.25", "{{ .HostConfig.CgroupParent }}"),
    ("5.29", "{{ .HostConfig.PidsLimit }}"),
    ("5.31", "{{ .HostConfig.UsernsMode }}"),
)


def time_library(repeat):
    from ansible_collections.bulwark.hardening.plugins.module_utils.audit.run import run_audit  # pylint: disable=import-outside-toplevel

    times, result = [], None
    for _run in range(repeat):
        started = time.monotonic()
        result = run_audit(label_filter=["bulwark.bench=1"])
        times.append(time.monotonic() - started)
    return times, result


def time_module(repeat, report="problems"):
    ensure_farm()
    runs = []
    with tempfile.TemporaryDirectory(prefix="bulwark-bench-") as directory:
        wrapper, rss_file = rss_wrapper(directory)
        arguments = {"label_filter": ["bulwark.bench=1"], "report": report}
        command = [os.path.join(os.path.dirname(sys.executable), "ansible"), "localhost", "-m",
                   "bulwark.hardening.container_audit", "-a", json.dumps(arguments),
                   "-e", "ansible_python_interpreter=" + wrapper]
        for _run in range(repeat):
            started = time.monotonic()
            completed = subprocess.run(command, capture_output=True, text=True, env=ansible_env(), check=False)
            wall = time.monotonic() - started
            result = json.loads(completed.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
            if result.get("failed"):
                raise RuntimeError("module failed: %s" % result.get("msg"))
            with open(rss_file, "r", encoding="ascii") as handle:
                peak_kb, process_wall, _cpu = handle.read().splitlines()[-1].split()
            runs.append({"report": report, "wall_s": round(wall, 3), "module_process_wall_s": float(process_wall),
                         "module_duration_s": result["duration_s"], "peak_rss_mb": round(int(peak_kb) / 1024.0, 1),
                         "result_mb": round(len(completed.stdout) / 1e6, 2), "listed": result["summary"]["listed"],
                         "api_calls": result["api_calls"], "api_calls_by_endpoint": result["api_calls_by_endpoint"],
                         "containers": result["containers"], "images": result["images"],
                         "findings": result["summary"]["total"]})
    return runs


def time_baseline(api, sample):
    ids = [c["Id"] for c in api.containers(filters={"label": "bulwark.bench=1"})][:sample]
    started = time.monotonic()
    for container_id in ids:
        for _rule, field in BASELINE_CHECKS:
            subprocess.run(["docker", "inspect", "--format", field, container_id], capture_output=True, check=True)
    return time.monotonic() - started, len(ids)


def time_docker_bench(directory):
    """Docker Bench's wall time (every section, its container checks on the benchmark's containers only)."""
    with tempfile.TemporaryDirectory(prefix="bulwark-bench-dbs-") as logs:
        _verdicts, seconds = run_docker_bench(directory, "bulwark-bench-", os.path.join(logs, "docker-bench"), False)
    return seconds


def report(args, server_version, images, library_times, library_result, module_runs, full_run, baseline_seconds,
           baseline_n, load, busy, docker_bench_s=None):
    per_container = baseline_seconds / baseline_n
    baseline_total = per_container * args.count
    module_wall = statistics.median(run["wall_s"] for run in module_runs)
    library_median = statistics.median(library_times)
    api_calls = module_runs[-1]["api_calls"]
    calls = module_runs[-1]["api_calls_by_endpoint"]
    budget = (module_runs[-1]["containers"] + module_runs[-1]["images"] + 2 + SECTION_6_CALLS
              + (SWARM_MANAGER_CALLS if "nodes" in calls else 0))
    peaks = [run["peak_rss_mb"] for run in module_runs]
    figures = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": machine(), "docker_server": server_version,
        "containers": args.count, "distinct_images": len(images),
        "library_s": {"runs": [round(t, 3) for t in library_times], "median": round(library_median, 3)},
        "load_average_1m": load,
        "background_cpu_busy_percent": busy,
        "module": module_runs,
        "module_report_all": full_run,
        "module_wall_s_median": round(module_wall, 3),
        "module_process_wall_s_median": round(statistics.median(run["module_process_wall_s"] for run in module_runs), 3),
        "api_calls": api_calls, "api_call_budget": budget,
        "module_peak_rss_mb_max": max(peaks),
        # the largest of every child process this benchmark waited for (ansible's controller included)
        "children_maxrss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0, 1),
        "baseline": {
            "checks_per_container": len(BASELINE_CHECKS), "sampled_containers": baseline_n,
            "sample_s": round(baseline_seconds, 2), "per_container_s": round(per_container, 3),
            "extrapolated_s": round(baseline_total, 1), "extrapolated": baseline_n < args.count,
        },
        "speedup_vs_module_wall": round(baseline_total / module_wall, 1),
        "speedup_vs_module_process": round(baseline_total / statistics.median(
            run["module_process_wall_s"] for run in module_runs), 1),
        "speedup_vs_library": round(baseline_total / library_median, 1),
        "findings": library_result["summary"]["total"],
    }
    if docker_bench_s is not None:
        figures["docker_bench"] = {"revision": docker_bench_revision(args.docker_bench), "wall_s": round(docker_bench_s, 1),
                                   "speedup_vs_module_wall": round(docker_bench_s / module_wall, 1)}
    return figures


def print_figures(figures):
    b = figures["baseline"]
    print()
    print("container_audit at scale, %s" % figures["date"])
    print("machine: %(cpus)s CPUs, %(memory_gib)s GiB, kernel %(kernel)s, Python %(python)s" % figures["machine"])
    print("docker server %s; %d containers, %d distinct images" % (figures["docker_server"], figures["containers"],
                                                                   figures["distinct_images"]))
    print("library gather+evaluate: median %.3f s (runs %s)" % (figures["library_s"]["median"], figures["library_s"]["runs"]))
    print("host CPU busy before measuring: %s%% (2 s window); load average (1 min) before/after: %s" % (
        figures["background_cpu_busy_percent"], figures["load_average_1m"]))
    print("module via ansible:      median wall %.3f s (runs %s) for the whole `ansible` command" % (
        figures["module_wall_s_median"], [run["wall_s"] for run in figures["module"]]))
    print("                         module process wall %s s (median %.3f); its gather+evaluate %s s; %s findings listed, %s MB" % (
        [run["module_process_wall_s"] for run in figures["module"]], figures["module_process_wall_s_median"],
        [run["module_duration_s"] for run in figures["module"]], figures["module"][-1]["listed"],
        figures["module"][-1]["result_mb"]))
    full = figures["module_report_all"]
    print("same with report=all:    wall %.3f s; module process %.3f s; %s findings listed, %s MB; peak RSS %s MB" % (
        full["wall_s"], full["module_process_wall_s"], full["listed"], full["result_mb"], full["peak_rss_mb"]))
    print("API calls: %d (budget containers + images + 2, + 2 for section 6, + 3 on a swarm manager = %d): %s" % (
        figures["api_calls"], figures["api_call_budget"], figures["module"][-1]["api_calls_by_endpoint"]))
    print("module peak RSS: %s MB (the module's python process); largest process overall (ansible included): %s MB" % (
        figures["module_peak_rss_mb_max"], figures["children_maxrss_mb"]))
    print("per-check baseline: %d checks x %d sampled containers = %.2f s (%.3f s per container)%s" % (
        b["checks_per_container"], b["sampled_containers"], b["sample_s"], b["per_container_s"],
        "; extrapolated to %d containers: %.1f s" % (figures["containers"], b["extrapolated_s"]) if b["extrapolated"] else ""))
    print("speed-up: %.1fx vs the ansible command, %.1fx vs the module process, %.1fx vs the library call" % (
        figures["speedup_vs_module_wall"], figures["speedup_vs_module_process"], figures["speedup_vs_library"]))
    if "docker_bench" in figures:
        bench = figures["docker_bench"]
        print("Docker Bench for Security (%s), every section, on the same containers: %.1f s; / the ansible command "
              "(end to end, both): %.1fx" % (bench["revision"], bench["wall_s"], bench["speedup_vs_module_wall"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="containers to start (max %d)" % MAX_COUNT)
    parser.add_argument("--images", type=int, default=5, help="distinct images among them")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of the library call and of the module")
    parser.add_argument("--baseline-sample", type=int, default=25, help="containers the per-check baseline runs on")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--docker-bench", help="a copy of docker-bench-security: run it on the same containers, timed")
    args = parser.parse_args()
    if not 1 <= args.count <= MAX_COUNT:
        parser.error("--count must be between 1 and %d" % MAX_COUNT)

    import docker  # pylint: disable=import-outside-toplevel

    api = docker.APIClient(version="auto", timeout=120, max_pool_size=CREATE_WORKERS * 2)
    # SIGTERM becomes an exception, so the finally block below removes the containers.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    try:
        remove_everything(api)  # leftovers of an interrupted run
        images = bench_images(api, args.images)
        started = time.monotonic()
        start_containers(api, images, args.count)
        print("started %d containers in %.1f s" % (args.count, time.monotonic() - started), flush=True)
        busy = wait_for_quiet()
        load = [round(os.getloadavg()[0], 2)]
        library_times, library_result = time_library(args.repeat)
        module_runs = time_module(args.repeat)
        full_run = time_module(1, report="all")[0]
        baseline_seconds, baseline_n = time_baseline(api, min(args.baseline_sample, args.count))
        docker_bench_s = time_docker_bench(args.docker_bench) if args.docker_bench else None
        load.append(round(os.getloadavg()[0], 2))
        figures = report(args, api.version()["Version"], images, library_times, library_result, module_runs, full_run,
                         baseline_seconds, baseline_n, load, busy, docker_bench_s)
    finally:
        removed = remove_everything(api)
        print("removed %d benchmark containers" % removed, flush=True)
    print_figures(figures)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
