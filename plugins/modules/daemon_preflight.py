#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check a Docker daemon configuration change before anything is written."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: daemon_preflight
short_description: Check a Docker daemon configuration change before anything is written
version_added: 0.1.0
description:
  - Computes the daemon.json a change would produce (O(settings) merged over the current file, as
    M(bulwark.hardening.daemon_config) does) and checks, before anything changes, that dockerd would
    still start B(and run containers) with it, and that no data would disappear from view.
  - Fails, naming the role variable (O(variables)) or daemon.json key and what is wrong, when -
    a default ulimit is above what the runtime may set (dockerd's and containerd's own hard limits
    on a host without CAP_SYS_RESOURCE, such as Docker inside LXC or a container; fs.nr_open for
    nofile); the change lacks live-restore while containers run (its restart would stop them all);
    a subordinate id range would not fit
    in the ids this host can map; the cgroup parent is not a slice under the systemd cgroup driver;
    the default runtime or the log driver is not available; a seccomp profile the daemon would load
    is missing or not a profile; a daemon.json key is also set on dockerd's command line, with the
    unit's EnvironmentFile variables (C($DOCKER_OPTS)) expanded.
  - Reads docker.service and its drop-ins (except O(drop_in)) to find dockerd's command line. With
    O(tls_listen) it returns the listeners (the unit's C(-H) flags plus O(tls_listen)) and the
    ExecStart without C(-H) that a drop-in must run, keeping every other flag of the unit.
  - Returns the subordinate uid and gid lines the remap user needs, allocated above every existing
    range (a missing C(/etc/subuid) or C(/etc/subgid) is an empty one), or its existing lines, and
    which of them are still missing (RV(subordinate_ids_missing)) and whether the remap user exists
    (RV(userns_user_exists)), so that a role writes only what is missing, without a task per file.
  - Changes that would hide or break what already runs are not made, and not refused either - they are
    left out of RV(settings) and listed in RV(left_open) with the reason and the variable that makes them
    anyway - user-namespace remapping switched on, off or to another user while containers, images or
    volumes exist (unless O(confirm_userns)); content trust (O(content_trust)) while running containers
    use images that came from no registry (unless O(confirm_local_images), or it is already on).
  - Reads the Engine over its Unix socket or plain TCP without the Docker SDK for Python, so it runs
    before anything is installed; RV(sdk_missing) tells the role whether to install the SDK for the
    modules that change the daemon. TLS needs the SDK - without it nothing is checked and RV(sdk_missing)
    is true.
  - Read-only - it never changes anything.
  - Secrets in what it returns (a password in a registry mirror or proxy URL, in O(settings), the existing
    daemon.json or dockerd's command line) are masked, the user and host of a URL kept. A TLS change whose
    drop-in would have to repeat a secret from dockerd's command line is refused.
author:
  - bulwark.hardening contributors (@bulwark)
options:
  settings:
    description:
      - The daemon.json keys the change sets, as for M(bulwark.hardening.daemon_config); V(null) removes a key.
    type: dict
    required: true
  state:
    description: How O(settings) apply to the current file, as for M(bulwark.hardening.daemon_config).
    type: str
    choices: [merged, exact]
    default: merged
  path:
    description: The daemon configuration file.
    type: path
    default: /etc/docker/daemon.json
  tls_listen:
    description:
      - A TCP listener the change adds (for example C(tcp://0.0.0.0:2376)). The listeners then move
        from the unit's C(-H) flags into daemon.json C(hosts), and RV(exec_start) is the command line
        a drop-in must run instead.
    type: str
  confirm_userns:
    description: Accept that changing user-namespace remapping hides the existing containers, images and volumes.
    type: bool
    default: false
  subordinate_id_count:
    description: Size of the subordinate uid and gid ranges the remap user gets when it has none.
    type: int
    default: 65536
  written_files:
    description:
      - Files the change itself installs (for example the seccomp profile), which need not exist yet.
    type: list
    elements: path
    default: []
  variables:
    description:
      - Which role variable sets each daemon.json key, so that failures name the variable.
    type: dict
    default: {}
  service:
    description: The systemd unit that runs dockerd.
    type: str
    default: docker.service
  drop_in:
    description: A drop-in of this change that is left out when reading the unit (its own earlier ExecStart).
    type: path
  content_trust:
    description:
      - Whether the change turns content trust (DOCKER_CONTENT_TRUST=1, CIS 4.5) on; RV(content_trust) says
        whether it may.
    type: bool
    default: false
  confirm_local_images:
    description:
      - Turn content trust on even where running containers use images built or imported on the host (no
        registry origin), which the docker CLI then refuses to run, create or pull by name.
    type: bool
    default: false
  cis_version:
    description:
      - The CIS Docker Benchmark version whose ids RV(left_open[].rule) uses, as the audit's
        O(bulwark.hardening.container_audit#module:cis_version) does. User-namespace remapping is C(2.10) in
        V(1.8), C(2.9) in V(1.6).
    type: str
    choices: ["1.6", "1.8"]
    default: "1.8"
extends_documentation_fragment:
  - bulwark.hardening.docker_connection
attributes:
  check_mode:
    support: full
    description: Read-only; check mode runs the same checks.
  diff_mode:
    support: none
    description: Nothing changes.
  platform:
    platforms: posix
    support: full
    description: Linux hosts where systemd runs dockerd.
seealso:
  - module: bulwark.hardening.daemon_config
  - module: bulwark.hardening.daemon_restart
"""

EXAMPLES = r"""
- name: Stop before writing anything when the change would break the daemon
  bulwark.hardening.daemon_preflight:
    settings:
      default-ulimits: {nofile: {Name: nofile, Soft: 65536, Hard: 65536}}
      userns-remap: dockremap
    variables:
      default-ulimits: docker_daemon_default_ulimits
  register: preflight

- name: Install the Docker SDK for Python where it is missing
  ansible.builtin.package:
    name: python3-docker
  when: preflight.sdk_missing

- name: Create the remap user when it does not exist
  ansible.builtin.user:
    name: dockremap
    system: true
  when: not preflight.userns_user_exists

- name: Give the remap user the subordinate ids it has not got yet
  ansible.builtin.lineinfile:
    path: "{{ item.key }}"
    regexp: "^dockremap:"
    line: "{{ item.value }}"
    create: true
    mode: "0644"
  loop: "{{ preflight.subordinate_ids_missing | dict2items }}"
"""

RETURN = r"""
settings:
  description:
    - O(settings) without the changes left open on this host (RV(left_open)) - what to write, for display;
      secrets in it are masked, like in every other value this module returns (a role writes its own
      settings without the RV(left_open) keys instead).
  returned: success
  type: dict
  sample: {"icc": false, "live-restore": true}
config:
  description: The daemon.json content the change produces, secrets masked (a registry mirror's or proxy's password).
  returned: success
  type: dict
  sample: {"icc": false, "userns-remap": "dockremap"}
left_open:
  description: The changes this host keeps from being made, why, and the variable that makes them anyway.
  returned: success
  type: list
  elements: dict
  contains:
    rule:
      description: The CIS id the change serves, in the numbering of O(cis_version).
      type: str
      sample: "2.10"
    setting:
      description: The daemon.json key or environment variable.
      type: str
      sample: userns-remap
    variable:
      description: The role variable that makes the change anyway.
      type: str
      sample: docker_daemon_userns_confirm_existing
    reason:
      description: What would disappear or stop working, and how to migrate.
      type: str
userns_left_open:
  description: Whether the user-namespace remapping change is left undone (nothing to prepare for it).
  returned: success
  type: bool
content_trust:
  description: Whether content trust may be turned on (or stays on); false when O(content_trust) is false.
  returned: success
  type: bool
hosts:
  description: With O(tls_listen), the listeners for daemon.json C(hosts); otherwise null.
  returned: success
  type: list
  elements: str
  sample: ["fd://", "tcp://0.0.0.0:2376"]
exec_start:
  description: With O(tls_listen), the unit's ExecStart without C(-H), for a drop-in; otherwise null.
  returned: success
  type: str
  sample: /usr/sbin/dockerd --containerd=/run/containerd/containerd.sock $DOCKER_OPTS
dockerd_args:
  description: dockerd's command line after the change, variables expanded (what the conflict check read).
  returned: success
  type: list
  elements: str
subordinate_ids:
  description: The remap user's line for each subordinate id file, when remapping is on.
  returned: success
  type: dict
  sample: {"/etc/subuid": "dockremap:165536:65536", "/etc/subgid": "dockremap:165536:65536"}
subordinate_ids_missing:
  description:
    - The part of RV(subordinate_ids) for the files where the remap user has no range yet (by name or
      uid) - the lines that must be written. Empty when nothing is missing or remapping is off.
  returned: success
  type: dict
  sample: {"/etc/subgid": "dockremap:165536:65536"}
userns_user_exists:
  description: Whether the remap user exists on the host; false when remapping is off.
  returned: success
  type: bool
package_lists_empty:
  description:
    - With RV(sdk_missing), whether apt has no package lists yet (an image-built host), so that installing the SDK
      must update them first, whatever their directory's age says.
  returned: success
  type: bool
sdk_missing:
  description:
    - Whether the Docker SDK for Python is missing on the host (the modules that change the daemon need
      it). Over TLS nothing was checked then and no other value is returned; install the SDK and run the
      module again.
  returned: always
  type: bool
problems:
  description: What is wrong, one line each, naming the variable; the module fails when there is any.
  returned: always
  type: list
  elements: str
daemon:
  description: Facts the checks read about the running daemon.
  returned: success
  type: dict
  contains:
    version:
      description: docker info .ServerVersion.
      type: str
    pid:
      description: dockerd's process id.
      type: int
    userns:
      description: Whether user-namespace remapping is active.
      type: bool
    can_raise_limits:
      description: Whether dockerd holds CAP_SYS_RESOURCE.
      type: bool
"""

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.bulwark.hardening.plugins.module_utils.common.masking import MaskedModule, masked_main
from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import CIS_VERSIONS, DEFAULT_CIS_VERSION
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import brownfield, host_state, preflight
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.options import config_to_merge_into
from ansible_collections.bulwark.hardening.plugins.module_utils.host import environment
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.argument_spec import with_connection
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import (
    HAS_DOCKER, EngineError, connect, connection_from, guarded, needs_sdk, not_found_class,
)

ARGUMENT_SPEC = with_connection(dict(
    settings=dict(type="dict", required=True),
    state=dict(type="str", choices=["merged", "exact"], default="merged"),
    path=dict(type="path", default="/etc/docker/daemon.json"),
    tls_listen=dict(type="str"),
    confirm_userns=dict(type="bool", default=False),
    subordinate_id_count=dict(type="int", default=65536),
    written_files=dict(type="list", elements="path", default=[]),
    variables=dict(type="dict", default={}),
    service=dict(type="str", default="docker.service"),
    drop_in=dict(type="path"),
    content_trust=dict(type="bool", default=False),
    confirm_local_images=dict(type="bool", default=False),
    cis_version=dict(type="str", choices=list(CIS_VERSIONS), default=DEFAULT_CIS_VERSION),
))


def current_config(module):
    try:
        return config_to_merge_into(host_state.read_text(module.params["path"]), module.params["state"]) or {}
    except ValueError as error:
        module.fail_json(msg="%s: %s" % (module.params["path"], error))


def _images_of(client, image_ids):
    """{image id: inspect} of the images; one that vanished meanwhile is left out."""
    images = {}
    for image_id in sorted(image_ids):
        try:
            images[image_id] = client.call("inspect_image", image_id)
        except not_found_class():
            continue
    return images


def _read_engine(client):
    info = client.call("info")
    volumes = client.call("volumes") or {}
    running = [((summary.get("Names") or ["/" + summary["Id"][:12]])[0].lstrip("/"), summary.get("Image"),
                summary.get("ImageID")) for summary in client.call("containers")]
    images = _images_of(client, set(image_id for _name, _image, image_id in running if image_id))
    return info, len(volumes.get("Volumes") or []), brownfield.local_images_in_use(running, images)


def engine_facts(module):
    """docker info, the number of volumes, and the local images running containers use: 3 API calls and
    one image inspect per distinct image of the running containers."""
    try:
        client = connect(connection_from(module.params))
        return guarded(client, _read_engine, client)
    except EngineError as error:
        module.fail_json(msg="%s. Install and start Docker before hardening it." % error)


def gather(module):
    info, volume_count, local_images = engine_facts(module)
    texts, error = host_state.unit_files(module.params["service"], exclude=[module.params["drop_in"]])
    if error:
        module.fail_json(msg=error)
    dockerd_pid, dockerd_limits, dockerd_status = host_state.process_limits("dockerd", host_state.DOCKERD_PIDFILES)
    _pid, containerd_limits, _status = host_state.process_limits("containerd")
    facts = preflight.Facts(
        current_config=current_config(module), unit_texts=texts, environment=host_state.unit_environment(texts),
        info=info, volume_count=volume_count,
        limits=preflight.lowest_limits(dockerd_limits, containerd_limits), limits_owner="dockerd and containerd",
        can_raise=preflight.has_capability(dockerd_status, preflight.CAP_SYS_RESOURCE), nr_open=host_state.nr_open(),
        id_maps=host_state.id_maps(), subordinate=host_state.subordinate_ranges(), uid_of=host_state.user_id,
        which=host_state.which, read_text=host_state.read_text, local_images=local_images,
        content_trust_on=bool(host_facts.content_trust_sources(environ={})),
    )
    return facts, dockerd_pid


def masked_command_line_problems(module, result):
    """The TLS drop-in repeats the unit's ExecStart from this result, which is printed masked like every other
    value: a secret on dockerd's command line would reach the drop-in as ********, so it is refused."""
    exec_start = result.get("exec_start")
    if exec_start and module.masker.text(exec_start) != exec_start:
        return ["docker_daemon_tls_enabled: dockerd's ExecStart holds a secret, which the TLS drop-in would have to "
                "repeat and this module never returns unmasked: move it to daemon.json or an EnvironmentFile variable"]
    return []


def named_in(left_open, cis_version):
    """left_open with each rule named by its id in CIS version cis_version (the preflight names the canonical, v1.6,
    id), as the audit names it."""
    return [dict(entry, rule=catalog.get(entry["rule"]).id_in(cis_version)) for entry in left_open]


@masked_main
def main():
    module = MaskedModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if not HAS_DOCKER and needs_sdk(connection_from(module.params)):
        # Not a failure: the caller installs the SDK where this says so and runs the preflight again.
        module.exit_json(changed=False, sdk_missing=True, problems=[],
                         msg="nothing was checked: %s" % missing_required_lib("docker"))
    facts, dockerd_pid = gather(module)
    params = module.params
    result = preflight.plan(
        params["settings"], facts, tls_listen=params["tls_listen"], state=params["state"],
        confirm_userns=params["confirm_userns"], subordinate_count=params["subordinate_id_count"],
        written_files=params["written_files"], variables=params["variables"],
        content_trust=params["content_trust"], confirm_local_images=params["confirm_local_images"],
    )
    result["left_open"] = named_in(result["left_open"], params["cis_version"])
    result["daemon"] = {
        "version": facts.info.get("ServerVersion"), "pid": dockerd_pid, "can_raise_limits": facts.can_raise,
        "userns": any(entry.startswith("name=userns") for entry in facts.info.get("SecurityOptions") or []),
    }
    result["sdk_missing"] = not HAS_DOCKER
    # Installing it on a host whose apt lists were removed (an image-built host) needs an update first.
    result["package_lists_empty"] = result["sdk_missing"] and environment.package_lists_empty()
    result["problems"].extend(masked_command_line_problems(module, result))
    if result["problems"]:
        module.fail_json(msg="The daemon configuration change was not made: " + " | ".join(result["problems"]), **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
