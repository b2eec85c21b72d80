"""The daemon settings every scenario's harden leaves in effect, read from the running daemon: dockerd under
systemd, live restore, the local logging driver. Shared by the container and VM scenarios: a scenario's test
module imports these test functions, which makes pytest run them there."""


def test_dockerd_runs_under_systemd(host):
    assert host.service("docker").is_running


def test_live_restore_is_enabled(docker_info):
    assert docker_info["LiveRestoreEnabled"] is True


def test_logging_driver_is_local(docker_info):
    assert docker_info["LoggingDriver"] == "local"
