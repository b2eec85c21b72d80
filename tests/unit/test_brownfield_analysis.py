"""The brownfield scenario's counting (molecule/resources/brownfield/analysis.py):
which requests failed in which phase, dockerd restarts, how long each service
had no running container, and which containers a phase created, on made-up
logs and events of the shapes request_loop.py and `docker events` write."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "molecule", "resources", "brownfield"))
import analysis  # noqa: E402  pylint: disable=wrong-import-position

OLD_DB, NEW_DB, FAILED_DB = "a" * 64, "b" * 64, "c" * 64
APP = "d" * 64


def request_lines(*rows):
    return "".join("%.3f %.3f %s %s %s\n" % row for row in rows)


def event(time, container, action, service="db", name="shop_db_1"):
    attributes = {"name": name}
    if service:
        attributes["com.docker.compose.service"] = service
    return json.dumps({"Type": "container", "Action": action, "id": container, "timeNano": int(time * 1e9),
                       "Actor": {"ID": container, "Attributes": attributes}})


def test_requests_are_read_in_the_order_they_were_sent_and_torn_lines_skipped():
    text = request_lines((11.0, 11.2, "ok", "66", "orders=1000"), (10.5, 12.0, "fail", "66", "URLError")) + "12.0 12."
    requests = analysis.parse_requests(text)
    assert [(request.scheduled, request.result, request.detail) for request in requests] == [
        (10.5, "fail", "URLError"), (11.0, "ok", "orders=1000")]


def test_a_dockerd_restart_counts_where_the_new_pid_first_shows():
    requests = analysis.parse_requests(request_lines(
        (1.0, 1.1, "ok", "66", ""), (1.5, 1.6, "fail", "-", ""), (2.0, 2.1, "ok", "80", ""), (3.0, 3.1, "ok", "80", ""),
        (4.0, 4.1, "ok", "95", "")))
    assert analysis.dockerd_restarts(requests, (0.0, 2.5)) == 1
    assert analysis.dockerd_restarts(requests, (2.5, 5.0)) == 1
    assert analysis.dockerd_restarts(requests, (2.5, 3.5)) == 0


def test_events_are_kept_once_though_the_watcher_asks_again_after_a_reconnection():
    text = "\n".join([event(5.0, NEW_DB, "create"), event(5.0, NEW_DB, "create"), "not json",
                      json.dumps({"Type": "network", "Action": "connect", "id": "x", "timeNano": 1})])
    assert [(e.action, e.service) for e in analysis.parse_events(text)] == [("create", "db")]


def test_an_outage_runs_from_the_last_container_dying_to_the_next_starting():
    events = analysis.parse_events("\n".join([
        event(10.0, NEW_DB, "create"), event(11.0, OLD_DB, "die"), event(13.5, NEW_DB, "start"),
        event(14.0, APP, "die", service="app", name="shop_app_1"), event(14.2, APP, "start", service="app", name="shop_app_1")]))
    running = {OLD_DB: "db", APP: "app"}
    assert analysis.outages(events, running, (0.0, 20.0)) == {"db": [(11.0, 13.5)], "app": [(14.0, 14.2)]}


def test_a_service_down_when_the_window_opens_is_down_from_its_start_and_may_stay_down():
    events = analysis.parse_events(event(12.0, OLD_DB, "start"))
    assert analysis.outages(events, {}, (10.0, 20.0)) == {"db": [(10.0, 12.0)]}
    assert analysis.outages(analysis.parse_events(event(11.0, OLD_DB, "die")), {OLD_DB: "db"}, (10.0, 20.0)) == {
        "db": [(11.0, None)]}


def test_created_containers_are_told_apart_by_what_became_of_them():
    events = analysis.parse_events("\n".join([
        event(1.0, NEW_DB, "create"), event(2.0, FAILED_DB, "create", service="web", name="shop_web_1"),
        event(3.0, FAILED_DB, "destroy", service="web", name="shop_web_1"),
        event(4.0, APP, "create", service="app", name="shop_app_1")]))
    created = analysis.replacements(events, (0.0, 10.0), {"db": {NEW_DB}, "app": {"e" * 64}})
    assert [(entry["service"], entry["outcome"]) for entry in created] == [
        ("db", "replaced"), ("web", "rolled_back"), ("app", "interrupted")]


def test_each_request_belongs_to_one_phase_and_the_budget_follows_what_the_phase_did():
    requests = analysis.parse_requests(request_lines(
        (1.0, 1.1, "ok", "66", ""), (2.0, 2.1, "fail", "66", "http-502"), (3.0, 3.1, "fail", "-", "URLError"),
        (4.0, 4.1, "ok", "80", ""), (5.0, 5.1, "wrong", "80", "orders=0 checksum=x")))
    events = analysis.parse_events("\n".join([event(2.5, NEW_DB, "create"), event(2.6, OLD_DB, "die"),
                                              event(3.2, NEW_DB, "start")]))
    phases = [
        {"name": "harden", "start": 0.5, "after": [{"id": OLD_DB, "service": "db", "running": True}]},
        {"name": "remediate", "start": 2.2, "after": [{"id": NEW_DB, "service": "db", "running": True}]},
    ]
    first, second = analysis.summarize(phases, requests, events, {OLD_DB: "db"}, 6.0)
    assert (first["window"], first["requests"], first["failed"], first["dockerd_restarts"]) == ([0.5, 2.2], 2, 1, 0)
    assert first["failures"] == {"fail http-502": 1}
    assert analysis.budget(first) == 0
    assert (second["requests"], second["failed"], second["dockerd_restarts"]) == (3, 2, 1)
    assert second["outages"] == {"db": [[0.4, 0.6]]}
    assert [entry["outcome"] for entry in second["created"]] == ["replaced"]
    assert analysis.budget(second) == 3 + 10
    assert second["failed_by_service"] == {"web": 1, "data": 1}
    assert analysis.over_budget(second) == []  # one restart: 3 for each service


def test_a_failed_request_names_the_service_its_answer_points_at():
    requests = analysis.parse_requests(request_lines(
        (1.0, 1.1, "fail", "66", "http-503"), (2.0, 2.1, "fail", "66", "http-502"), (3.0, 3.1, "fail", "66", "URLError"),
        (4.0, 4.1, "fail", "66", "RemoteDisconnected"), (5.0, 5.1, "wrong", "66", "orders=0 checksum=x")))
    assert [analysis.failed_service(request) for request in requests] == ["db", "app", "web", "web", "data"]


def test_each_service_is_held_to_its_own_replacements():
    phase = {"dockerd_restarts": 0, "failed_by_service": {"db": 11, "web": 4, "app": 2},
             "created": [{"service": "db", "outcome": "rolled_back"}, {"service": "web", "outcome": "replaced"}]}
    assert analysis.over_budget(phase) == ["app: 2 failed requests, budget 0", "db: 11 failed requests, budget 10"]


def test_a_service_may_also_lose_the_requests_sent_while_its_old_container_stopped():
    # issue 18: without a container for at most its stop time plus 5 s. The database took 2.2 s to shut
    # down (kill at 10.0, die at 12.2): 5 more requests for db; web's stop is not db's.
    events = analysis.parse_events("\n".join([
        event(10.0, OLD_DB, "kill"), event(10.1, OLD_DB, "kill"), event(12.2, OLD_DB, "die"),
        event(13.0, "e" * 64, "kill", service="web"), event(13.4, "e" * 64, "die", service="web"),
        event(20.0, OLD_DB, "kill"), event(30.0, OLD_DB, "die")]))
    assert analysis.stop_seconds(events, (0.0, 15.0)) == {"db": 2.2, "web": 0.4}
    phase = {"dockerd_restarts": 0, "failed_by_service": {"db": 15, "app": 1},
             "stop_seconds": analysis.stop_seconds(events, (0.0, 15.0)),
             "created": [{"service": "db", "outcome": "rolled_back"}]}
    assert analysis.budget(phase, "db") == 10 + 5
    assert analysis.budget(phase, "app") == 0  # nothing of the app replaced: its stop time is no excuse
    assert analysis.over_budget(phase) == ["app: 1 failed requests, budget 0"]


def test_what_a_killed_run_created_is_unfinished_whatever_is_left_of_it():
    events = analysis.parse_events("\n".join([event(1.0, NEW_DB, "create"), event(2.0, FAILED_DB, "create"),
                                              event(3.0, FAILED_DB, "destroy")]))
    created = analysis.replacements(events, (0.0, 10.0), {"db": {NEW_DB, OLD_DB}}, killed=True)
    assert [entry["outcome"] for entry in created] == ["interrupted", "rolled_back"]
