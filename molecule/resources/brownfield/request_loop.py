"""What the brownfield app's users see: a request every 0.5 s through nginx's
published port, for as long as the scenario runs (a transient systemd unit in
the instance, started by scenario.py).

Requests go out on a fixed schedule, each in its own thread, so a slow or
hanging answer never delays the next one. One line per request, appended to
the log as it finishes:

    <scheduled at> <finished at> <result> <dockerd pid> <detail>

result is ok (200 and the seeded table's checksum, within 10 s: a slow answer
on a loaded CI machine is still an answer), wrong (200 with other data: rows
lost or changed) or fail (no answer in time, or an error status); times
are Unix seconds; the dockerd pid (from its pid file, - when there is none)
shows each restart of the daemon.

Usage: request_loop.py URL EXPECTED_CHECKSUM LOG
"""

import json
import sys
import threading
import time
import urllib.error
import urllib.request

PERIOD = 0.5
TIMEOUT = 10
DOCKERD_PIDFILE = "/run/docker.pid"


def dockerd_pid():
    try:
        with open(DOCKERD_PIDFILE, encoding="ascii") as handle:
            return handle.read().strip() or "-"
    except OSError:
        return "-"


def outcome(url, expected):
    """(result, detail) of one request."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            body = json.loads(response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        return "fail", "http-%d" % error.code
    except (OSError, ValueError) as error:
        return "fail", type(error).__name__
    if body.get("checksum") != expected:
        return "wrong", "orders=%s checksum=%s" % (body.get("orders"), body.get("checksum"))
    return "ok", "orders=%s" % body.get("orders")


def request(url, expected, scheduled, log, lock):
    pid = dockerd_pid()
    result, detail = outcome(url, expected)
    line = "%.3f %.3f %s %s %s\n" % (scheduled, time.time(), result, pid, detail)
    with lock:
        log.write(line)
        log.flush()


def main(url, expected, path):
    lock = threading.Lock()
    with open(path, "a", encoding="utf-8") as log:
        scheduled = time.time()
        while True:
            threading.Thread(target=request, args=(url, expected, scheduled, log, lock), daemon=True).start()
            scheduled += PERIOD
            time.sleep(max(0.0, scheduled - time.time()))


if __name__ == "__main__":
    main(*sys.argv[1:4])
