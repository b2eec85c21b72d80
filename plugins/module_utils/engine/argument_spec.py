# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""The Docker connection options as an Ansible argument spec.

Documented once, by the doc fragment bulwark.hardening.docker_connection;
connection.connection_from() turns the parsed values into a Connection.
The names, aliases and environment variables are the docker CLI's and
community.docker's, so existing inventories and environments carry over.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import DEFAULT_DOCKER_HOST

CONNECTION_ARGS = dict(
    docker_host=dict(type="str", default=DEFAULT_DOCKER_HOST, aliases=["docker_url"],
                     fallback=(env_fallback, ["DOCKER_HOST"])),
    tls=dict(type="bool", default=False, fallback=(env_fallback, ["DOCKER_TLS"])),
    validate_certs=dict(type="bool", default=False, aliases=["tls_verify"],
                        fallback=(env_fallback, ["DOCKER_TLS_VERIFY"])),
    ca_path=dict(type="path", aliases=["ca_cert", "tls_ca_cert"]),
    client_cert=dict(type="path", aliases=["tls_client_cert"]),
    client_key=dict(type="path", aliases=["tls_client_key"], no_log=False),
    api_version=dict(type="str", default="auto", aliases=["docker_api_version"],
                     fallback=(env_fallback, ["DOCKER_API_VERSION"])),
    timeout=dict(type="int", default=60, fallback=(env_fallback, ["DOCKER_TIMEOUT"])),
)


def with_connection(argument_spec):
    """argument_spec plus the connection options (a new dict)."""
    spec = dict(CONNECTION_ARGS)
    spec.update(argument_spec)
    return spec
