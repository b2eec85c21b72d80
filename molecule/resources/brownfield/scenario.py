"""The brownfield run on one Molecule instance (a container with its own
Engine), driven from the controller: a Compose app that runs *before*
harden, a request loop through its published port for the whole run, the
collection's playbooks run as an operator runs them, and what the app's users
saw, phase by phase, in a JSON report that molecule/default/tests/
test_brownfield.py asserts on.

1. prepare: load the app's images (build-brownfield.sh's tar) into the
   instance's Engine, `docker-compose up -d` the app (/srv/shop), wait until
   every service is healthy, seed the database, record its rows' checksum,
   and start two transient units: the request loop (request_loop.py) and a
   watcher of the Engine's container events;
2. audit.yml; harden.yml with default variables; the shared workload
   (../workload.yml); remediate.yml with `-e containers_recreate_enabled=true`
   on the default policy;
3. remediate.yml with the operator's policy (operator-policy.yml), once per
   step of a replacement, each run killed with SIGKILL at that step by
   container_remediate's fault-injection hook (BULWARK_REMEDIATE_KILL_AT, put
   into the module's environment by the docker connection's extra_env and
   kept through sudo), then once more to recover;
4. harden.yml and remediate.yml again (both must change nothing),
   `docker-compose up -d` in a login shell (must recreate nothing), audit.yml;
5. stop the loop, read the database again, analyse (analysis.py), write
   <results>/<instance>.json, with the instance container's id (a second
   converge of the same instance finds it and does nothing; a new instance of
   the same name runs again).

Each playbook run's output is kept next to the report. A run that fails is
recorded, not fatal: the verifier reports every broken promise at once. Only
an app that cannot be brought up at all stops the run (exit 1).

Usage: scenario.py --instance NAME --inventory FILE --images TAR --results DIR [--kill-steps JSON]
"""

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import analysis  # noqa: E402  pylint: disable=wrong-import-position

PROJECT = "shop"
APP_DIR = "/srv/shop"
COMPOSE = "docker-compose -p %s" % PROJECT
SERVICES = ("web", "app", "db")
IMAGE_TAG = "1"
# The app's users come from elsewhere: the loop asks the instance's own external address, so the
# answer takes the way their connections take (the Engine's NAT), not docker-proxy's loopback path.
URL = "http://%s:8080/"
ROWS = 1000
REMOTE_DIR = "/usr/local/lib/bulwark-brownfield"
LOG_DIR = "/var/log/bulwark-brownfield"
REQUEST_UNIT = "bulwark-brownfield-requests"
EVENTS_UNIT = "bulwark-brownfield-events"
WORKLOAD_PLAYBOOK = os.path.join(HERE, "..", "workload.yml")
OPERATOR_POLICY = os.path.join(HERE, "operator-policy.yml")
KILL_AT = "BULWARK_REMEDIATE_KILL_AT"  # container_remediate's fault-injection hook (remediate/journal.py)
RECREATE = ("-e", "containers_recreate_enabled=true")  # as an operator types it: a string
SUMMARY_SQL = ("SELECT count(*) || ' ' || md5(coalesce(string_agg(id || ':' || item || ':' || amount, ',' ORDER BY id), ''))"
               " FROM orders")
SEED_SQL = ("CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, item text NOT NULL, amount numeric(10,2) NOT NULL);"
            "INSERT INTO orders (item, amount) SELECT 'item-' || n, (n * 7 %% 1000) / 10.0"
            " FROM generate_series(1, %d) AS n WHERE NOT EXISTS (SELECT 1 FROM orders);" % ROWS)
# Container events the watcher keeps (not the health checks' exec_* events, several a second).
EVENTS = ("create", "start", "die", "kill", "stop", "destroy", "rename", "health_status")
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)"
                   r"\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)", re.MULTILINE)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# What ansible reports when the module process died of SIGKILL (the shell's 128+9, or -9).
KILLED = re.compile(r'"rc": (137|-9)\b')


class Failure(Exception):
    """The app could not be brought up: nothing after it would mean anything."""


class Instance(object):
    """Commands inside the Molecule instance (a container of the Engine this controller uses)."""

    def __init__(self, name):
        self.name = name

    def run(self, script, stdin=None, check=True, timeout=900):
        with open(stdin, "rb") if stdin else open(os.devnull, "rb") as source:
            result = subprocess.run(["docker", "exec", "-i", self.name, "bash", "-c", script], stdin=source,
                                    capture_output=True, timeout=timeout, check=False)
        out, err = result.stdout.decode("utf-8", "replace"), result.stderr.decode("utf-8", "replace")
        if check and result.returncode != 0:
            raise Failure("%s: %s failed (%d): %s" % (self.name, script[:200], result.returncode, (err or out)[-2000:]))
        return result.returncode, out, err

    def out(self, script, **options):
        return self.run(script, **options)[1]

    def put(self, local, remote, mode="0644"):
        target = shlex.quote(remote)
        self.run("install -d %s && cat > %s && chmod %s %s" % (shlex.quote(os.path.dirname(remote)), target, mode, target),
                 stdin=local)


def app_containers(instance):
    """Every container of the Compose project (leftovers of a replacement included), as plain data."""
    text = instance.out("ids=$(docker ps -aq --filter label=com.docker.compose.project=%s); "
                        "[ -z \"$ids\" ] && echo '[]' || docker inspect $ids" % PROJECT)
    containers = []
    for inspect in json.loads(text):
        state = inspect["State"]
        containers.append({
            "id": inspect["Id"], "name": inspect["Name"].lstrip("/"),
            "service": inspect["Config"]["Labels"].get("com.docker.compose.service"),
            "running": state["Running"], "status": state["Status"], "started_at": state["StartedAt"],
            "health": (state.get("Health") or {}).get("Status"), "restart_count": inspect["RestartCount"],
            "restart_policy": inspect["HostConfig"]["RestartPolicy"]["Name"],
            "read_only": inspect["HostConfig"]["ReadonlyRootfs"], "cap_drop": inspect["HostConfig"]["CapDrop"],
            "security_opt": inspect["HostConfig"]["SecurityOpt"], "memory": inspect["HostConfig"]["Memory"],
        })
    return sorted(containers, key=lambda container: container["name"])


def service_container(instance, service):
    names = [container["name"] for container in app_containers(instance)
             if container["service"] == service and container["running"] and "-bulwark-old-" not in container["name"]]
    if len(names) != 1:
        raise Failure("%s: expected one running %s container, found %s" % (instance.name, service, names))
    return names[0]


def database_summary(instance):
    """'<rows> <md5 of every row>' of the orders table, read in the db container."""
    db = service_container(instance, "db")
    return instance.out("docker exec %s psql -h 127.0.0.1 -U shop -d shop -Atc %s" % (db, shlex.quote(SUMMARY_SQL))).strip()


def leftovers(instance):
    return instance.out("docker ps -a --filter name=-bulwark-old- --format '{{.Names}}'").split()


def wait_until_healthy(instance, timeout=180):
    deadline = time.time() + timeout
    while True:
        containers = [c for c in app_containers(instance) if "-bulwark-old-" not in c["name"]]
        if sorted(c["service"] for c in containers if c["health"] == "healthy") == sorted(SERVICES):
            return containers
        if time.time() > deadline:
            raise Failure("%s: the app is not healthy after %d s: %s" % (instance.name, timeout, containers))
        time.sleep(1)


def load_images(instance, tar):
    """The three images into the instance's Engine, under the names the Compose file uses."""
    tag = re.search(r"brownfield-([0-9a-f]+)\.tar$", tar).group(1)
    instance.run("docker load -q >/dev/null", stdin=tar)
    instance.run("; ".join("docker tag bulwark-brownfield/%s:%s shop/%s:%s && docker rmi -f bulwark-brownfield/%s:%s >/dev/null"
                           % (service, tag, service, IMAGE_TAG, service, tag) for service in SERVICES))


def external_address(instance):
    """The instance's own address on its network (eth0)."""
    return instance.out("ip -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1").strip()


def remove_docker_sdk(instance):
    """As on a host where nothing but Docker and Python was installed: the audit must not need the SDK, and
    harden.yml installs it (apt's lists were removed when the instance's image was built)."""
    instance.run("DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq python3-docker >/dev/null")
    rc, _out, _err = instance.run("python3 -c 'import docker'", check=False)
    if rc == 0:
        raise Failure("%s: the Docker SDK for Python is still importable" % instance.name)


def prepare(instance, tar, without_sdk=False):
    """The app up and seeded, the loop and the event watcher running; returns what was found."""
    started = time.time()
    if without_sdk:
        remove_docker_sdk(instance)
    load_images(instance, tar)
    loaded = time.time()
    instance.put(os.path.join(HERE, "docker-compose.yml"), APP_DIR + "/docker-compose.yml")
    instance.put(os.path.join(HERE, "request_loop.py"), REMOTE_DIR + "/request_loop.py")
    instance.run("cd %s && %s up -d" % (APP_DIR, COMPOSE))
    wait_until_healthy(instance)
    up = time.time()
    db = service_container(instance, "db")
    instance.run("docker exec %s psql -q -h 127.0.0.1 -U shop -d shop -c %s" % (db, shlex.quote(SEED_SQL)))
    summary = database_summary(instance)
    checksum = summary.split()[1]
    instance.run(
        "install -d %(logs)s && rm -f %(logs)s/*.log && "
        "systemd-run --quiet --unit=%(events)s --property=Restart=no /bin/bash -c %(watch)s && "
        "systemd-run --quiet --unit=%(requests)s --property=Restart=no /usr/bin/python3 %(dir)s/request_loop.py "
        "%(url)s %(checksum)s %(logs)s/requests.log" % {
            "logs": LOG_DIR, "events": EVENTS_UNIT, "requests": REQUEST_UNIT, "dir": REMOTE_DIR,
            "url": URL % external_address(instance),
            "checksum": checksum, "watch": shlex.quote(events_watcher())})
    # The app answers through the loop before anything else happens.
    deadline = time.time() + 60
    while instance.out("grep -c ' ok ' %s/requests.log || true" % LOG_DIR).strip() in ("", "0", "1", "2", "3"):
        if time.time() > deadline:
            raise Failure("%s: the request loop saw no answer in 60 s: %s" % (
                instance.name, instance.out("tail -n 5 %s/requests.log" % LOG_DIR, check=False)))
        time.sleep(0.5)
    return {"database": summary, "containers": app_containers(instance), "without_sdk": without_sdk,
            "seconds": {"load_images": round(loaded - started, 1), "compose_up_healthy": round(up - loaded, 1),
                        "total": round(time.time() - started, 1)}}


def events_watcher():
    """A shell loop that follows the Engine's container events into a file, across dockerd restarts
    (it asks again from a second before the stream broke; analysis.parse_events drops repeats)."""
    filters = " ".join("--filter event=%s" % event for event in EVENTS)
    return ("since=$(date +%%s); while :; do docker events --since \"$since\" --filter type=container %s "
            "--format '{{json .}}' >> %s/events.log 2>/dev/null; since=$(( $(date +%%s) - 1 )); sleep 0.5; done"
            % (filters, LOG_DIR))


class Runner(object):
    """ansible-playbook against the one instance, as an operator runs it; every run's output kept."""

    def __init__(self, instance, inventory, results):
        self.instance = instance
        self.inventory = inventory
        self.results = results
        self.count = 0
        found = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
        self.binary = found if os.path.exists(found) else "ansible-playbook"

    def playbook(self, playbook, *args):
        self.count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", os.path.basename(playbook).lower()).strip("-")
        log = os.path.join(self.results, "%s-%02d-%s.log" % (self.instance.name, self.count, slug))
        command = [self.binary, "-i", self.inventory, "--limit", self.instance.name, playbook] + list(args)
        env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=1800, env=env)
        output = ANSI.sub("", result.stdout + result.stderr)
        with open(log, "w", encoding="utf-8") as handle:
            handle.write("$ %s\n%s" % (" ".join(shlex.quote(word) for word in command), output))
        recap = dict(zip(("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored"),
                         [int(value) for value in next((match.groups()[1:] for match in RECAP.finditer(output)
                                                        if match.group(1) == self.instance.name), ())]))
        return {"rc": result.returncode, "recap": recap, "killed": bool(KILLED.search(output)), "log": log,
                "tail": output[-3000:]}


def wait_for_users(instance, since, in_a_row=3, timeout=60):
    """Seconds until the users' last `in_a_row` requests, all sent after `since`, answered ok; None when
    that did not happen within `timeout`. What a step costs the users does not end when its command
    returns (nginx's DNS cache, the embedded DNS coming back after a dockerd restart): the phase keeps
    them, so the next one is not charged with them."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        lines = instance.out("tail -n %d %s/requests.log" % (in_a_row, LOG_DIR), check=False).splitlines()
        answered = analysis.parse_requests("\n".join(lines))
        if len(answered) == in_a_row and all(request.result == "ok" and request.scheduled >= since
                                             for request in answered):
            return round(time.time() - since, 1)
        time.sleep(analysis.REQUEST_PERIOD)
    return None


class Phases(object):
    """The run's phases: what ran, when, its result, and the app's containers after it; each (but a
    killed run, whose service stays down until the next run) lasts until the users get answers again."""

    def __init__(self, instance):
        self.instance = instance
        self.phases = []

    def run(self, name, kind, action, **extra):
        phase = dict(name=name, kind=kind, start=time.time(), **extra)
        self.phases.append(phase)
        print("%s: %s" % (self.instance.name, name), flush=True)
        phase.update(action())
        phase["end"] = time.time()
        phase["seconds"] = round(phase["end"] - phase["start"], 1)
        if kind != "remediate-killed":
            phase["users_answered_after"] = wait_for_users(self.instance, phase["end"])
        phase["after"] = app_containers(self.instance)
        phase["leftovers"] = leftovers(self.instance)
        return phase


def compose_up(instance):
    """`docker-compose up -d` as the operator types it, in a login shell, in the project's directory."""
    rc, out, err = instance.run("bash -lc %s" % shlex.quote("cd %s && %s up -d" % (APP_DIR, COMPOSE)), check=False)
    return {"rc": rc, "output": (out + err)[-3000:]}


def local_image_in_a_login_shell(instance):
    """An image built here (no registry digest) started as an operator would, in a login shell."""
    rc, out, err = instance.run("bash -lc %s" % shlex.quote("docker run --rm shop/app:%s true" % IMAGE_TAG), check=False)
    return {"rc": rc, "output": (out + err)[-2000:],
            "content_trust": instance.out("bash -lc 'echo ${DOCKER_CONTENT_TRUST:-}'", check=False).strip()}


def restart_dockerd(instance):
    """A dockerd restart as an operator makes one, for comparison: what any restart costs the app's users."""
    rc, out, err = instance.run("systemctl reset-failed docker.service; systemctl restart docker.service && "
                                "timeout 60 sh -c 'until docker info >/dev/null 2>&1; do sleep 0.2; done'", check=False)
    return {"rc": rc, "output": (out + err)[-2000:]}


def brownfield_run(report, instance, runner, kill_steps, tar, without_sdk=False):
    """Every step above, recorded into report as it goes (a run that stops half-way keeps what it saw)."""
    report["kill_steps"] = kill_steps
    report["prepare"] = prepare(instance, tar, without_sdk)
    phases = Phases(instance)
    report["phases"] = phases.phases
    policy = ("-e", "@" + OPERATOR_POLICY)
    phases.run("audit before", "audit", lambda: runner.playbook(
        "bulwark.hardening.audit", "-e", "bulwark_audit_label='brownfield before'", "-e", "bulwark_audit_fail_severity=none"))
    phases.run("harden", "harden", lambda: runner.playbook("bulwark.hardening.harden"))
    phases.run("workload", "workload", lambda: runner.playbook(WORKLOAD_PLAYBOOK))
    phases.run("remediate, default policy", "remediate", lambda: runner.playbook("bulwark.hardening.remediate", *RECREATE))
    for step in kill_steps:
        # The docker connection's extra_env puts the hook into the module's environment for this run
        # only, and sudo (the play's become) is told to keep it.
        kill = ("-e", json.dumps({"ansible_docker_extra_env": {KILL_AT: step},
                                  "ansible_become_flags": "-H -S -n --preserve-env=%s" % KILL_AT}))
        phases.run("remediate killed at %s" % step, "remediate-killed", lambda: runner.playbook(
            "bulwark.hardening.remediate", *(RECREATE + policy + kill)), step=step)
    phases.run("remediate, recovery", "remediate", lambda: runner.playbook("bulwark.hardening.remediate", *(RECREATE + policy)))
    phases.run("harden again", "harden-again", lambda: runner.playbook("bulwark.hardening.harden"))
    # Live-restore is on from harden.yml's run: a bare restart now stops nothing, and costs what any restart costs.
    phases.run("dockerd restarted by hand", "bare-restart", lambda: restart_dockerd(instance))
    phases.run("remediate again", "remediate-again", lambda: runner.playbook("bulwark.hardening.remediate", *(RECREATE + policy)))
    phases.run("docker-compose up -d", "compose", lambda: compose_up(instance))
    phases.run("audit after", "audit", lambda: runner.playbook(
        "bulwark.hardening.audit", "-e", "bulwark_audit_label='brownfield after'", "-e", "bulwark_audit_fail_severity=none"))
    end = time.time()
    instance.run("systemctl stop %s %s" % (REQUEST_UNIT, EVENTS_UNIT), check=False)
    report["local_image"] = local_image_in_a_login_shell(instance)
    try:
        report["database_after"] = database_summary(instance)
    except Failure as error:
        report["database_after"] = "unreadable: %s" % error
    requests = analysis.parse_requests(instance.out("cat %s/requests.log" % LOG_DIR, check=False))
    events = analysis.parse_events(instance.out("cat %s/events.log" % LOG_DIR, check=False))
    running = dict((c["id"], c["service"]) for c in report["prepare"]["containers"] if c["running"])
    report["phases"] = analysis.summarize(phases.phases, requests, events, running, end)
    report["requests"] = {"sent": len(requests), "failed": len(analysis.failed_requests(requests)),
                          "wrong": sum(1 for request in requests if request.result == "wrong")}
    report["complete"] = True


def instance_container_id(name):
    """The instance's container id: a report belongs to the instance it was made on (a report left by an
    earlier instance of the same name is made again, never taken for this one's)."""
    return subprocess.run(["docker", "inspect", "--format", "{{.Id}}", name], capture_output=True, text=True,
                          check=True).stdout.strip()


def print_summary(report):
    for phase in report.get("phases") or []:
        recap = phase.get("recap") or {}
        print("%s | %-28s %6.1f s rc=%s changed=%s | requests %d, failed %d (budget %d) %s | dockerd restarts %d | %s%s" % (
            report["instance"], phase["name"], phase.get("seconds", 0), phase.get("rc"), recap.get("changed"),
            phase.get("requests", 0), phase.get("failed", 0), analysis.budget(phase) if "created" in phase else 0,
            phase.get("failures") or "", phase.get("dockerd_restarts", 0),
            " ".join("%s:%s" % (entry["service"], entry["outcome"]) for entry in phase.get("created") or []),
            " KILLED" if phase.get("killed") else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--instance", required=True)
    parser.add_argument("--inventory", required=True)
    parser.add_argument("--images", required=True, help="the tar build-brownfield.sh printed")
    parser.add_argument("--results", required=True, help="directory for the report and the playbook logs")
    parser.add_argument("--kill-steps", default="[]", help="JSON list of BULWARK_REMEDIATE_KILL_AT steps")
    parser.add_argument("--without-sdk", choices=["true", "false"], default="false",
                        help="remove python3-docker before the first audit")
    options = parser.parse_args()
    os.makedirs(options.results, exist_ok=True)
    path = os.path.join(options.results, options.instance + ".json")
    instance_id = instance_container_id(options.instance)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            recorded = json.load(handle)
        if recorded.get("complete") and recorded.get("instance_id") == instance_id:
            print("%s: the brownfield run is already recorded in %s" % (options.instance, path))
            return 0
    for name in os.listdir(options.results):  # an earlier instance's playbook logs
        if name.startswith(options.instance + "-") and name.endswith(".log"):
            os.remove(os.path.join(options.results, name))
    instance = Instance(options.instance)
    report = {"instance": options.instance, "instance_id": instance_id, "complete": False}
    try:
        brownfield_run(report, instance, Runner(instance, options.inventory, options.results),
                       json.loads(options.kill_steps), options.images, options.without_sdk == "true")
    except Failure as error:
        report["error"] = str(error)
        print(str(error), file=sys.stderr)
        return 1
    finally:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1, sort_keys=True)
        print_summary(report)
        print("report: %s" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
