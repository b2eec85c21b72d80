"""What the brownfield run's users saw, phase by phase: plain functions over the
request loop's log (request_loop.py), the container events of the instance's
Engine and the phases scenario.py ran. No Docker, no Ansible: scenario.py
writes their results into its JSON report, the verifier asserts on that."""

import collections
import json
import math

Request = collections.namedtuple("Request", "scheduled finished result pid detail")
Event = collections.namedtuple("Event", "time id action name service")

COMPOSE_SERVICE = "com.docker.compose.service"
# What a change may cost the app's users (DESIGN.md's brownfield target): failed requests per dockerd
# restart, and per app container replaced or rolled back.
PER_DOCKERD_RESTART = 3
PER_REPLACEMENT = 10
# The request loop's period (request_loop.py): a second of a service's own stop time is two requests.
REQUEST_PERIOD = 0.5


def parse_requests(text):
    """The request loop's lines, in the order they were sent (torn or foreign lines skipped)."""
    requests = []
    for line in text.splitlines():
        fields = line.split(" ", 4)
        if len(fields) < 4:
            continue
        try:
            scheduled, finished = float(fields[0]), float(fields[1])
        except ValueError:
            continue
        requests.append(Request(scheduled, finished, fields[2], fields[3], fields[4] if len(fields) > 4 else ""))
    return sorted(requests)


def parse_events(text):
    """Container events of `docker events --format '{{json .}}'`, each once (the watcher asks again
    from a little earlier after every reconnection), in time order."""
    seen, events = set(), []
    for line in text.splitlines():
        try:
            raw = json.loads(line)
        except ValueError:
            continue
        if raw.get("Type", "container") != "container":
            continue
        key = (raw.get("timeNano"), raw.get("id"), raw.get("Action"))
        if key in seen:
            continue
        seen.add(key)
        attributes = (raw.get("Actor") or {}).get("Attributes") or {}
        action = (raw.get("Action") or raw.get("status") or "").split(":")[0]
        events.append(Event(raw.get("timeNano", 0) / 1e9, raw.get("id"), action, attributes.get("name"),
                            attributes.get(COMPOSE_SERVICE)))
    return sorted(events)


def windows(phases, end):
    """Each phase with the window it owns: from its start to the next phase's start (the last one to
    `end`), so that every request belongs to exactly one phase."""
    starts = [phase["start"] for phase in phases] + [end]
    return [dict(phase, window=[starts[index], starts[index + 1]]) for index, phase in enumerate(phases)]


def within(requests, window):
    start, end = window
    return [request for request in requests if start <= request.scheduled < end]


def failed_requests(requests):
    return [request for request in requests if request.result != "ok"]


def failed_service(request):
    """Which service a failed request says was missing, from what the user got back: the app answers
    503 when the database is unreachable, nginx 502/504 when the app is; no answer at all (refused,
    reset, timed out) means nginx itself. A request that got other data counts as data."""
    if request.result == "wrong":
        return "data"
    if request.detail.startswith("http-503"):
        return "db"
    if request.detail.startswith(("http-502", "http-504")):
        return "app"
    return "web"


def dockerd_restarts(requests, window):
    """How often dockerd's pid changed between one request and the next, counted in the window
    where the new pid first shows (a request sent while no dockerd ran shows -)."""
    restarts, last = 0, None
    for request in requests:
        if request.pid == "-":
            continue
        if last is not None and request.pid != last and window[0] <= request.scheduled < window[1]:
            restarts += 1
        last = request.pid
    return restarts


def services_of(events):
    """{container id: Compose service} of every app container the events mention."""
    return dict((event.id, event.service) for event in events if event.service)


def outages(events, running_at_start, window):
    """Per service, the spans in the window during which none of its containers ran:
    {service: [(down at, up at or None), ...]}. running_at_start: {container id: service}; a service
    with no container running at the window's start is down from there."""
    services = services_of(events)
    running = dict(running_at_start)
    down_since = dict((service, None if service in running.values() else window[0])
                      for service in set(services.values()) | set(running.values()))
    spans = collections.defaultdict(list)
    for event in events:
        service = services.get(event.id)
        if service is None or not window[0] <= event.time < window[1]:
            continue
        if event.action == "start":
            running[event.id] = service
        elif event.action == "die":
            running.pop(event.id, None)
        else:
            continue
        up = service in running.values()
        if not up and down_since[service] is None:
            down_since[service] = event.time
        elif up and down_since[service] is not None:
            spans[service].append((down_since[service], event.time))
            down_since[service] = None
    for service, since in down_since.items():
        if since is not None:
            spans[service].append((since, None))
    return dict(spans)


def stop_seconds(events, window):
    """Per service, the seconds its containers took to stop in the window: from the first `kill` (the
    stop signal) to the container's `die`. Users lose requests while a container shuts down whatever
    replaces it (issue 18: a service may be without a container for its stop time plus 5 s), and a
    loaded machine makes a database's shutdown take seconds."""
    services = services_of(events)
    signalled, seconds = {}, collections.defaultdict(float)
    for event in events:
        service = services.get(event.id)
        if service is None or not window[0] <= event.time < window[1]:
            continue
        if event.action == "kill":
            signalled.setdefault(event.id, event.time)
        elif event.action == "die" and event.id in signalled:
            seconds[service] += event.time - signalled.pop(event.id)
    return dict((service, round(value, 1)) for service, value in seconds.items())


def replacements(events, window, final_ids, killed=False):
    """Containers created in the window, by service, with what became of them:
    replaced (still there at the window's end), rolled_back (removed again), interrupted (there,
    but not the service's container at the end, or the run was killed: unfinished)."""
    created = [event for event in events if event.action == "create" and window[0] <= event.time < window[1]
               and event.service]
    removed = set(event.id for event in events if event.action == "destroy" and window[0] <= event.time < window[1])
    result = []
    for event in created:
        if event.id in removed:
            outcome = "rolled_back"
        elif event.id in final_ids.get(event.service, ()) and not killed:
            outcome = "replaced"
        else:
            outcome = "interrupted"
        result.append({"service": event.service, "name": event.name, "id": event.id[:12], "outcome": outcome})
    return result


def summarize(phases, requests, events, running_at_start, end):
    """Every phase with its requests (sent, failed, failures by kind), dockerd restarts, outages
    per service (seconds) and the app containers created in it."""
    summary = []
    running = dict(running_at_start)
    for phase in windows(phases, end):
        window = phase["window"]
        mine = within(requests, window)
        failed = failed_requests(mine)
        spans = outages(events, running, window)
        final_ids = {}
        for container in phase.get("after") or []:
            final_ids.setdefault(container["service"], set()).add(container["id"])
        summary.append(dict(
            phase,
            requests=len(mine),
            failed=len(failed),
            failures=dict(collections.Counter("%s %s" % (request.result, request.detail.split(" ")[0])
                                              for request in failed)),
            failed_by_service=dict(collections.Counter(failed_service(request) for request in failed)),
            dockerd_restarts=dockerd_restarts(requests, window),
            stop_seconds=stop_seconds(events, window),
            outages={service: [[round(down - window[0], 1), None if up is None else round(up - down, 1)]
                               for down, up in service_spans] for service, service_spans in spans.items()},
            created=replacements(events, window, final_ids, phase.get("killed", False)),
        ))
        running = dict((container["id"], container["service"]) for container in phase.get("after") or []
                       if container.get("running"))
    return summary


def budget(phase, service=None):
    """Failed requests a phase may cost its users (of one service, or in all): 3 per dockerd restart,
    10 per app container replaced or rolled back (of that service) plus the requests sent while its old
    container was stopping (its stop time)."""
    changed = sum(1 for entry in phase["created"] if entry["outcome"] in ("replaced", "rolled_back")
                  and service in (None, entry["service"]))
    stopping = sum(seconds for name, seconds in (phase.get("stop_seconds") or {}).items() if service in (None, name))
    return (PER_DOCKERD_RESTART * phase["dockerd_restarts"] + PER_REPLACEMENT * changed
            + (int(math.ceil(stopping / REQUEST_PERIOD)) if changed else 0))


def over_budget(phase):
    """'<service>: <failed> failed requests, budget <n>' for each service whose users lost more than
    its replacements and the phase's dockerd restarts allow (a phase that replaced nothing of it
    allows it nothing but the restarts); empty when every service stayed within."""
    return ["%s: %d failed requests, budget %d" % (service, failed, budget(phase, service))
            for service, failed in sorted(phase["failed_by_service"].items()) if failed > budget(phase, service)]
