"""audit.yml on one host with N running containers, the way operators and AWX run it.

    .venv/bin/python benchmarks/audit_playbook_scale.py --count 1000 --repeat 3

Runs `ansible-playbook bulwark.hardening.audit` against this machine
(connection local) over N containers of benchmarks/measure.py's mix
(hardened, default, weak, with a secret), twice per repeat:

- `problems`: no report directory, so container_audit lists only fail, warn
  and waived findings (the playbook's default);
- `reports`: bulwark_audit_report_dir set, so every finding is listed and the
  JSON, JUnit and HTML reports are written on the controller.

For each run it records the playbook's wall time; the wall time, CPU time
and peak RSS of each module process (audit.yml runs one per host,
bulwark.hardening.audit: the container audit, then the image audit; its
interpreter runs under measure.py's small wrapper, which records wall, peak RSS
and CPU); each audit's own duration_s and API calls, and the reads the image
audit took over from the container audit (api_calls_shared); the duration of
each task (json callback); and the CPU time and peak RSS of everything the run
started, the modules subtracted from the CPU: the controller's share.

Then, once per mode, audit.yml runs through ansible-runner as AWX runs it,
and the size of what it wrote into job_events/ (what AWX stores for the job)
is summed per task and host: the bytes the host's audit adds to the job.
--no-job-events skips that. The containers are removed at the end unless
--keep; --reuse takes N benchmark containers left running by --keep.
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

import measure  # noqa: E402  pylint: disable=wrong-import-position
from measure import BENCH_LABEL  # noqa: E402  pylint: disable=wrong-import-position


def extra_vars(directory, mode, image_audit):
    """audit.yml's variables for a mode: problems (no report directory) or reports (every finding, files written)."""
    extra = {"bulwark_audit_containers": ["bulwark-bench-*"], "bulwark_audit_fail_severity": "none",
             "bulwark_audit_image_audit": image_audit}
    if mode == "reports":
        extra["bulwark_audit_report_dir"] = os.path.join(directory, "reports")
    return extra


def run_playbook(directory, mode, image_audit):
    """One audit.yml run; its figures."""
    interpreter, module_log = measure.rss_wrapper(directory)
    if os.path.exists(module_log):
        os.unlink(module_log)
    inventory = os.path.join(directory, "inventory")
    with open(inventory, "w", encoding="utf-8") as handle:
        handle.write("localhost ansible_connection=local ansible_become=false ansible_python_interpreter=%s\n"
                     % interpreter)
    extra = extra_vars(directory, mode, image_audit)
    env = measure.ansible_env()
    env["ANSIBLE_STDOUT_CALLBACK"] = "json"
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory,
               "bulwark.hardening.audit", "-e", json.dumps(extra)]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    stdout, stderr = process.communicate()
    wall = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # cumulative: differences are taken by the caller
    if process.returncode != 0:
        raise RuntimeError("audit.yml failed (%d): %s" % (process.returncode, (stdout + stderr).decode()[-2000:]))
    output = json.loads(stdout)
    tasks = {}
    audit = None
    for task in output["plays"][0]["tasks"]:
        result = task["hosts"].get("localhost", {})
        duration = task["task"]["duration"]
        tasks[task["task"]["name"]] = round(_seconds(duration["end"]) - _seconds(duration["start"]), 3)
        if "api_calls" in result and audit is None:  # the audit: the first task that reports API calls
            audit = result
    with open(module_log, "r", encoding="ascii") as handle:
        modules = [line.split() for line in handle.read().splitlines()]
    process = modules[0]  # the audit module's: one module process per host
    image = audit.get("image_audit")
    return {
        "mode": mode, "wall_s": round(wall, 3), "tasks_s": tasks, "module_processes": len(modules),
        "audit": {"process_wall_s": float(process[1]), "cpu_s": float(process[2]), "peak_rss_mb": round(int(process[0]) / 1024.0, 1)},
        "container_audit": {"duration_s": audit["duration_s"], "listed": audit["summary"]["listed"],
                            "findings": audit["summary"]["total"], "api_calls": audit["api_calls"],
                            "containers": audit["containers"]},
        "image_audit": ({"duration_s": image["duration_s"], "listed": image["summary"]["listed"], "findings": image["summary"]["total"],
                         "api_calls": image["api_calls"], "api_calls_shared": audit.get("api_calls_shared"), "images": image["images"],
                         "cache_hits": image["cache"]["hits"], "cache_misses": image["cache"]["misses"]}
                        if isinstance(image, dict) and "summary" in image else None),
        "module_cpu_s": round(sum(float(line[2]) for line in modules), 3),
        "usage": (usage.ru_utime + usage.ru_stime, usage.ru_maxrss),
        "result_mb": round(len(stdout) / 1e6, 2),  # the whole json callback output, indented
        "audit_result_mb": round(len(json.dumps(audit, separators=(",", ":"))) / 1e6, 2),  # the audit task's result
        "reports": sorted(os.listdir(extra["bulwark_audit_report_dir"])) if mode == "reports" else [],
    }


# Runs a command and prints the peak RSS (kB) of the largest process under it (RUSAGE_CHILDREN is a maximum over
# every descendant waited for: ansible-playbook, its workers, the modules).
LARGEST_PROCESS = ("import resource, subprocess, sys\n"
                   "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)\n"
                   "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")


def largest_process(directory, mode, image_audit):
    """The largest process (MB) of one audit.yml run as an operator runs it: ansible's default output, not the json
    callback the timed runs use, which keeps every task result to print them all at the end."""
    inventory = os.path.join(directory, "inventory-default-output")
    with open(inventory, "w", encoding="utf-8") as handle:
        handle.write("localhost ansible_connection=local ansible_become=false ansible_python_interpreter=%s\n" % sys.executable)
    env = measure.ansible_env()
    env.pop("ANSIBLE_STDOUT_CALLBACK", None)
    command = [sys.executable, "-c", LARGEST_PROCESS, os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
               "-i", inventory, "bulwark.hardening.audit", "-e", json.dumps(extra_vars(directory, mode, image_audit))]
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return {"mode": mode, "largest_process_mb": round(int(completed.stdout.strip()) / 1024.0, 1)}


# A project for ansible-runner: audit.yml of the installed collection, as an AWX project's playbook would import it.
RUNNER_PLAYBOOK = """- name: The collection's audit playbook
  ansible.builtin.import_playbook: bulwark.hardening.audit
"""


def run_with_runner(directory, mode, image_audit):
    """One audit.yml run through ansible-runner, as AWX runs a job; the bytes its job_events/ holds (job_events())."""
    import ansible_runner  # pylint: disable=import-outside-toplevel

    private = tempfile.mkdtemp(prefix="runner-%s-" % mode, dir=directory)
    os.makedirs(os.path.join(private, "project"))
    os.makedirs(os.path.join(private, "inventory"))
    with open(os.path.join(private, "project", "audit.yml"), "w", encoding="utf-8") as handle:
        handle.write(RUNNER_PLAYBOOK)
    with open(os.path.join(private, "inventory", "hosts"), "w", encoding="utf-8") as handle:
        handle.write("localhost ansible_connection=local ansible_become=false ansible_python_interpreter=%s\n" % sys.executable)
    # The checkout's collection first, as the other runs; ansible-runner's own stdout callback, which makes the events.
    env = {"ANSIBLE_COLLECTIONS_PATH": measure.ansible_env()["ANSIBLE_COLLECTIONS_PATH"],
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    started = time.monotonic()
    runner = ansible_runner.run(private_data_dir=private, playbook="audit.yml", envvars=env, quiet=True,
                                extravars=extra_vars(directory, mode, image_audit))
    if runner.rc != 0:
        raise RuntimeError("audit.yml through ansible-runner failed (%s): %s" % (runner.rc, runner.stdout.read()[-2000:]))
    figures = job_events(runner.config.artifact_dir)
    figures.update(mode=mode, wall_s=round(time.monotonic() - started, 3))
    return figures


def job_events(artifact_dir):
    """What one run wrote into artifact_dir/job_events (AWX stores these events): the total bytes and event count,
    the bytes per host (the events of that host's task results) and per task and host; events of no host (play and
    task starts, the stats) are counted under "" ."""
    by_host, by_task = collections.Counter(), collections.Counter()
    left_out = []
    paths = glob.glob(os.path.join(artifact_dir, "job_events", "*.json"))
    for path in paths:
        size = os.path.getsize(path)
        with open(path, "r", encoding="utf-8") as handle:
            event = json.load(handle)
        data = event.get("event_data") or {}
        host = data.get("host") or ""
        by_host[host] += size
        by_task["%s | %s" % (data.get("task") or event.get("event"), host)] += size
        # ansible-runner's event callback stores {} instead of a task result longer than MAX_EVENT_RES characters
        # (700,000 by default; AWX sets it from its MAX_EVENT_RES_DATA setting).
        if event.get("event") == "runner_on_ok" and data.get("res") == {}:
            left_out.append("%s | %s" % (data.get("task"), host))
    return {"job_events_bytes": sum(by_host.values()), "events": len(paths), "bytes_by_host": dict(by_host),
            "bytes_by_task_and_host": dict(by_task.most_common()), "results_left_out": sorted(left_out)}


def _seconds(stamp):
    # json callback times: 2026-11-26T08:30:01.123456Z
    return time.mktime(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) + float("0." + (stamp[20:-1] or "0"))


def controller_share(runs):
    """CPU the run's own processes used beyond the modules: the controller (ansible-playbook and its workers)."""
    previous = 0.0
    for run in runs:
        cpu, maxrss = run.pop("usage")
        run["all_processes_cpu_s"] = round(cpu - previous, 3)
        run["controller_cpu_s"] = round(cpu - previous - run["module_cpu_s"], 3)
        run["largest_process_rss_mb"] = round(maxrss / 1024.0, 1)  # the largest so far: ru_maxrss is a maximum
        previous = cpu
    return runs


def reuse_or_start(api, count, reuse):
    running = api.containers(filters={"label": "bulwark.bench=1"})
    if reuse and len(running) == count:
        return "reused %d running benchmark containers" % count
    measure.remove_everything(api)
    images = measure.bench_images(api, 5)
    started = time.monotonic()
    measure.start_containers(api, images, count)
    return "started %d containers in %.1f s" % (count, time.monotonic() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="containers (max %d)" % measure.MAX_COUNT)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-image-audit", action="store_true", help="leave out the audit's image part (bulwark_audit_image_audit: false)")
    parser.add_argument("--no-job-events", action="store_true", help="skip the runs through ansible-runner (job_events/ bytes)")
    parser.add_argument("--keep", action="store_true", help="leave the containers running")
    parser.add_argument("--reuse", action="store_true", help="use --count benchmark containers already running")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if not 1 <= args.count <= measure.MAX_COUNT:
        parser.error("--count must be between 1 and %d" % measure.MAX_COUNT)

    import docker  # pylint: disable=import-outside-toplevel

    api = docker.APIClient(version="auto", timeout=120, max_pool_size=measure.CREATE_WORKERS * 2)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    measure.ensure_farm()
    runs, events, largest = [], [], []
    try:
        print(reuse_or_start(api, args.count, args.reuse), flush=True)
        busy = measure.wait_for_quiet()
        load = round(os.getloadavg()[0], 2)
        with tempfile.TemporaryDirectory(prefix="bulwark-bench-") as directory:
            for _round in range(args.repeat):
                for mode in ("problems", "reports"):
                    runs.append(run_playbook(directory, mode, not args.no_image_audit))
                    print(json.dumps({key: runs[-1][key] for key in ("mode", "wall_s", "audit", "container_audit")}), flush=True)
            largest = [largest_process(directory, mode, not args.no_image_audit) for mode in ("problems", "reports")]
            print(json.dumps(largest), flush=True)
            if not args.no_job_events:
                for mode in ("problems", "reports"):
                    events.append(run_with_runner(directory, mode, not args.no_image_audit))
                    print(json.dumps({key: events[-1][key] for key in ("mode", "wall_s", "job_events_bytes", "bytes_by_host")}), flush=True)
        controller_share(runs)
    finally:
        if not args.keep:
            print("removed %d benchmark containers" % measure.remove_everything(api), flush=True)
    figures = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "machine": measure.machine(),
               "docker_server": api.version()["Version"], "containers": args.count, "labels": BENCH_LABEL,
               "background_cpu_busy_percent": busy, "load_average_1m": load, "runs": runs, "job_events": events,
               "largest_process_default_output": largest}
    print_figures(figures)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=2)
    return 0


def print_figures(figures):
    print()
    print("audit.yml on one host, %s; %s" % (figures["date"], figures["machine"]))
    print("docker %s, %d containers; CPU busy before: %s%%, load %s" % (
        figures["docker_server"], figures["containers"], figures["background_cpu_busy_percent"], figures["load_average_1m"]))
    for mode in ("problems", "reports"):
        runs = [run for run in figures["runs"] if run["mode"] == mode]
        process = [run["audit"] for run in runs]
        audit = [run["container_audit"] for run in runs]
        walls = [run["wall_s"] for run in runs]
        print("%-8s playbook wall median %.2f s %s" % (mode, statistics.median(walls), walls))
        print("         audit module process (%d per host) wall median %.2f s %s, CPU median %.2f s %s, peak RSS %s MB"
              % (runs[-1]["module_processes"], statistics.median(p["process_wall_s"] for p in process), [p["process_wall_s"] for p in process],
                 statistics.median(p["cpu_s"] for p in process), [p["cpu_s"] for p in process], max(p["peak_rss_mb"] for p in process)))
        print("         container audit duration_s %s, %d findings listed of %d, %d API calls"
              % ([a["duration_s"] for a in audit], audit[-1]["listed"], audit[-1]["findings"], audit[-1]["api_calls"]))
        if runs[-1]["image_audit"]:
            image = runs[-1]["image_audit"]
            print("         image audit duration_s %s, %d images, %d API calls, %s reads shared with the container audit"
                  % ([run["image_audit"]["duration_s"] for run in runs], image["images"], image["api_calls"], image["api_calls_shared"]))
        print("         audit task's result %s MB (compact JSON)" % runs[-1]["audit_result_mb"])
        print("         controller CPU %s s; largest process so far %s MB" % (
            [run["controller_cpu_s"] for run in runs], runs[-1]["largest_process_rss_mb"]))
    for entry in figures["largest_process_default_output"]:
        print("%-8s with ansible's default output: largest process %s MB" % (entry["mode"], entry["largest_process_mb"]))
    for events in figures["job_events"]:
        print("%-8s through ansible-runner: job_events/ %.2f MB in %d events; localhost's %.2f MB, of which its audit task %.2f MB"
              % (events["mode"], events["job_events_bytes"] / 1e6, events["events"], events["bytes_by_host"].get("localhost", 0) / 1e6,
                 sum(size for key, size in events["bytes_by_task_and_host"].items()
                     if key.startswith("Audit the host") and key.endswith("| localhost")) / 1e6))
        if events.get("results_left_out"):
            print("         results ansible-runner left out of the events (longer than MAX_EVENT_RES): %s"
                  % "; ".join(events["results_left_out"]))


if __name__ == "__main__":
    sys.exit(main())
