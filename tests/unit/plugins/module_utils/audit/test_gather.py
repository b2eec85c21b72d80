# -*- coding: utf-8 -*-
"""Gathering: which API calls, how many, and what happens when the API is unusable.

A fake low-level client answers from the captured fixtures, so the call
budget (containers + distinct images + 2) is checked without a daemon.
"""

from __future__ import annotations

import copy

import pytest
from docker.errors import APIError, NotFound
from requests.exceptions import ConnectionError as RequestsConnectionError

from ansible_collections.bulwark.hardening.plugins.module_utils.audit import gather
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.run import AuditError, run_audit
from ansible_collections.bulwark.hardening.plugins.module_utils.engine import connection as engine
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import CountingClient, EngineError, connection_from

from rule_fixtures import extras, load


class FakeResponse(object):
    status_code = 400
    reason = "Bad Request"
    url = "http+docker://localhost/v1.41/info"


class FakeAPI(object):
    """The APIClient methods gather uses, answering from fixtures; records list filters."""

    def __init__(self, version, copies=1, reject_version=None):
        self.version = version
        self.reject_version = reject_version
        base = load("containers.json")
        self.inspect = {}
        for number in range(copies):
            for name, data in base.items():
                clone = copy.deepcopy(data)
                clone["Id"] = "%s-%d" % (name, number)
                clone["Name"] = "/%s-%d" % (name, number)
                self.inspect[clone["Id"]] = clone
        self.list_arguments = None

    def _check_version(self):
        if self.reject_version and self.version == self.reject_version:
            raise APIError("400", response=FakeResponse(),
                           explanation="client version 1.41 is too new. Maximum supported API version is 1.40")

    def info(self):
        self._check_version()
        return load("info.json")

    def containers(self, all=False, filters=None):  # pylint: disable=redefined-builtin
        self.list_arguments = {"all": all, "filters": filters}
        return [{"Id": data["Id"], "Names": [data["Name"]]} for data in self.inspect.values()
                if all or data["State"]["Running"]]

    def inspect_container(self, container_id):
        return self.inspect[container_id]

    def inspect_image(self, image_id):
        return load("image.json")

    def top(self, container_id):
        return extras()["top"]

    def diff(self, container_id):
        return []

    def history(self, image_id):
        return extras()["history"]


def client_for(api_holder, **fake_options):
    def factory(version):
        api = FakeAPI(version, **fake_options)
        api_holder.append(api)
        return api
    return CountingClient(connection_from({}), api_factory=factory)


def test_budget_is_containers_plus_images_plus_two():
    apis = []
    result = run_audit(scope=["images", "containers", "bulwark"], client=client_for(apis, copies=25))
    assert result["containers"] == 75  # running fixtures only: hardened, insecure, hostnet
    assert result["images"] == 1
    # immutable containers (label bulwark.immutable=true) cost one diff each: 2 of the 3 running fixtures
    expected = {"info": 1, "containers": 1, "inspect_container": 75, "inspect_image": 1, "diff": 50}
    assert result["api_calls_by_endpoint"] == expected
    without_drift = run_audit(scope=["images", "containers"], client=client_for([], copies=25))
    assert without_drift["api_calls"] == 75 + 1 + 2


def test_optional_calls_only_when_asked():
    result = run_audit(scope=["images", "containers"], include_stopped=True, process_checks=True, image_history=True,
                       client=client_for([]))
    calls = result["api_calls_by_endpoint"]
    assert calls["top"] == 3  # running containers only
    assert calls["history"] == 1
    assert calls["inspect_container"] == 4


def test_filters_go_to_the_daemon_and_names_are_globbed():
    apis = []
    result = run_audit(scope=["containers"], label_filter=["bulwark.test=1"], name_filter=["hardened-*", "fixture-none"],
                       client=client_for(apis, copies=3))
    assert apis[0].list_arguments == {"all": False, "filters": {"label": ["bulwark.test=1"]}}
    assert result["containers"] == 3
    assert result["api_calls_by_endpoint"]["inspect_container"] == 3


def test_version_mismatch_is_retried_once_with_the_daemons_version():
    apis = []
    result = run_audit(scope=["daemon"], client=client_for(apis, reject_version=engine.PINNED_API_VERSION))
    assert [api.version for api in apis] == ["1.41", "1.40"]
    assert result["api_calls_by_endpoint"] == {"info": 2}


def test_container_removed_between_list_and_inspect_is_skipped():
    apis = []
    client = client_for(apis, copies=2)

    def vanish(container_id):
        raise NotFound("gone")
    apis[0].inspect_container = vanish
    assert run_audit(scope=["containers"], client=client)["containers"] == 0


def test_unreachable_socket_names_it_and_says_what_to_do(tmp_path):
    socket_url = "unix://%s/docker.sock" % tmp_path
    with pytest.raises(EngineError) as error:
        run_audit(connection=connection_from({"docker_host": socket_url}), scope=["daemon"])
    message = str(error.value)
    assert socket_url in message and "Start the Docker daemon" in message and "docker_host" in message


def test_permission_denied_advice():
    error = engine.explain("unix:///var/run/docker.sock",
                                            RequestsConnectionError("('Connection aborted.', PermissionError(13, 'Permission denied'))"))
    assert "docker group" in str(error) and "become" in str(error)


@pytest.mark.parametrize("arguments,message", [
    ({"scope": ["network"]}, "unknown scope"),
    ({"label_filter": ["=x"]}, "label_filter"),
    ({"waivers": [{"rule": "5.1", "reason": "r", "expires": "soon"}]}, "YYYY-MM-DD"),
    ({"report": "some"}, "report must be"),
])
def test_bad_input_fails_before_any_call(arguments, message):
    apis = []
    client = client_for(apis)
    with pytest.raises(AuditError, match=message):
        run_audit(client=client, **arguments)
    assert client.total == 0


def test_report_lists_problems_by_default_and_counts_everything():
    problems = run_audit(scope=["containers"], client=client_for([]))
    everything = run_audit(scope=["containers"], report="all", client=client_for([]))
    assert set(f["status"] for f in problems["findings"]) <= {"fail", "warn", "waived"}
    assert problems["summary"]["total"] == everything["summary"]["total"] == len(everything["findings"])
    assert problems["summary"]["listed"] == len(problems["findings"]) < len(everything["findings"])
