"""image_audit's layer scan of one image with very many files: time and peak memory of the module.

    .venv/bin/python benchmarks/image_audit_files.py --files 400000 --repeat 2

Imports one image whose filesystem is the sleeper rootfs plus N empty files
(in directories of 1000; built as a tar file on disk and loaded with the
Engine's image import, no registry; one layer), then runs the module through
Ansible (`ansible localhost -m bulwark.hardening.image_audit`) over that image
with an empty cache directory each round, so every round streams the image's
docker save and reads every layer. Each round records the wall time of the command, the
module's duration_s, the bytes streamed, the scan's verdict for 4.8 and the
peak RSS of the module process (benchmarks/measure.py's interpreter
wrapper). The image is removed at the end, also on failure or Ctrl-C.
Extra module options (the scan caps, for instance) go in --options as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from measure import machine, rss_wrapper  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.bulwark.hardening.tests.integration.adhoc import ansible_env, ensure_farm  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.bulwark.hardening.tests.integration.images import IMAGE_LABEL, rootfs_tarball  # noqa: E402  pylint: disable=wrong-import-position

DEFAULT_IMAGE = "bulwark-bench/many-files"
PER_DIRECTORY = 1000


def write_rootfs(path, files):
    """A tar file at path: the sleeper rootfs plus `files` empty files under /data/<n>/."""
    with tarfile.open(path, "w") as tar:
        with tarfile.open(fileobj=__import__("io").BytesIO(rootfs_tarball()), mode="r") as base:
            for member in base.getmembers():
                tar.addfile(member, base.extractfile(member) if member.isreg() else None)
        for number in range(files):
            if number % PER_DIRECTORY == 0:
                directory = tarfile.TarInfo("data/%d" % (number // PER_DIRECTORY))
                directory.type, directory.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(directory)
            tar.addfile(tarfile.TarInfo("data/%d/f%d" % (number // PER_DIRECTORY, number)))


def import_image(api, reference, files, directory):
    path = os.path.join(directory, "rootfs.tar")
    write_rootfs(path, files)
    repository, tag = reference.rsplit(":", 1)
    api.import_image_from_file(path, repository=repository, tag=tag,
                               changes=['CMD ["/bin/sleep","infinity"]', "LABEL " + IMAGE_LABEL, "USER 65534"])
    os.unlink(path)
    return api.inspect_image(reference)["Id"]


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
        peak_kb, process_wall, cpu = handle.read().splitlines()[-1].split()
    verdict = [finding for finding in result["findings"] if finding["rule"] == "4.8"]
    return {"wall_s": round(wall, 3), "module_process_wall_s": float(process_wall), "module_cpu_s": float(cpu),
            "module_duration_s": result["duration_s"],
            "peak_rss_mb": round(int(peak_kb) / 1024.0, 1), "bytes_read": result["cache"]["bytes_read"],
            "scan_errors": result["scan_errors"],
            "rule_4_8": (verdict[0]["status"], verdict[0]["evidence"]) if verdict else None}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=400000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--image", default=DEFAULT_IMAGE + ":1", help="the reference of the image made (removed afterwards)")
    parser.add_argument("--options", default="{}", help="extra image_audit options, as JSON")
    parser.add_argument("--json", help="write the figures to this file too")
    args = parser.parse_args()
    import docker  # pylint: disable=import-outside-toplevel

    api = docker.APIClient(base_url=os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"), version="auto", timeout=600)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    ensure_farm()
    load_before = os.getloadavg()
    runs = []
    image_id = None
    with tempfile.TemporaryDirectory(prefix="bulwark-files-bench-") as directory:
        try:
            started = time.monotonic()
            image_id = import_image(api, args.image, args.files, directory)
            build_s = time.monotonic() - started
            wrapper, rss_file = rss_wrapper(directory)
            for number in range(args.repeat):
                arguments = {"images": [args.image], "cache_dir": os.path.join(directory, "cache-%d" % number), "report": "all"}
                arguments.update(json.loads(args.options))
                runs.append(run_module(arguments, wrapper, rss_file))
        finally:
            if image_id is not None:
                api.remove_image(image_id, force=True)
    load_after = os.getloadavg()
    figures = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(),
               "load_average_before": [round(value, 2) for value in load_before],
               "load_average_after": [round(value, 2) for value in load_after],
               "docker": api.version().get("Version"), "files": args.files, "build_s": round(build_s, 1), "runs": runs}
    print("%d files: wall median %.2f s (%s); module %.2f s (%s), CPU %s s; peak RSS %.1f MB (%s); bytes read %d; 4.8: %s" % (
        args.files, statistics.median(r["wall_s"] for r in runs), ", ".join("%.2f" % r["wall_s"] for r in runs),
        statistics.median(r["module_duration_s"] for r in runs), ", ".join("%.2f" % r["module_duration_s"] for r in runs),
        ", ".join("%.1f" % r["module_cpu_s"] for r in runs), max(r["peak_rss_mb"] for r in runs),
        ", ".join("%.1f" % r["peak_rss_mb"] for r in runs), runs[0]["bytes_read"], runs[0]["rule_4_8"]))
    print("load average (1, 5, 15 min) before %s, after %s" % (figures["load_average_before"], figures["load_average_after"]))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
