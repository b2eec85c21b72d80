# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """How bulwark.hardening modules reach the Docker Engine API."""

    DOCUMENTATION = r"""
options:
  docker_host:
    description:
      - URL of the Docker API, for example C(unix:///var/run/docker.sock) or C(tcp://192.0.2.10:2376).
      - When the task does not set it, E(DOCKER_HOST) is used if set.
    type: str
    default: unix:///var/run/docker.sock
    aliases: [docker_url]
  tls:
    description:
      - Encrypt the connection with TLS without verifying the daemon's certificate.
        O(validate_certs=true) takes precedence.
      - When the task does not set it, E(DOCKER_TLS) is used if set.
    type: bool
    default: false
  validate_certs:
    description:
      - Encrypt the connection with TLS and verify the daemon's certificate against O(ca_path).
        This is what a daemon hardened for CIS TLS (C(tlsverify); 2.8 in v1.8, 2.7 in v1.6) expects, together with
        O(client_cert) and O(client_key).
      - When the task does not set it, E(DOCKER_TLS_VERIFY) is used if set.
    type: bool
    default: false
    aliases: [tls_verify]
  ca_path:
    description:
      - CA certificate to verify the daemon with.
      - When not set and E(DOCKER_CERT_PATH) is, C(ca.pem) in that directory.
    type: path
    aliases: [ca_cert, tls_ca_cert]
  client_cert:
    description:
      - Client certificate presented to the daemon. Give O(client_key) with it.
      - When not set and E(DOCKER_CERT_PATH) is, C(cert.pem) in that directory.
    type: path
    aliases: [tls_client_cert]
  client_key:
    description:
      - Key of O(client_cert).
      - When not set and E(DOCKER_CERT_PATH) is, C(key.pem) in that directory.
    type: path
    aliases: [tls_client_key]
  api_version:
    description:
      - Docker API version to speak. V(auto) starts with API 1.41 (Docker 20.10) and, if the
        daemon answers that it needs another version, repeats that first call once with the
        daemon's own, which saves a C(version) call on every run.
      - When the task does not set it, E(DOCKER_API_VERSION) is used if set.
    type: str
    default: auto
    aliases: [docker_api_version]
  timeout:
    description:
      - Seconds to wait for an answer from the API.
      - When the task does not set it, E(DOCKER_TIMEOUT) is used if set.
    type: int
    default: 60
requirements:
  - docker (the Docker SDK for Python) >= 5.0.0 on the managed host (Debian - C(python3-docker)) for what changes
    the Engine, and for TLS or ssh:// connections; reads over a Unix socket or plain TCP (the audits, the daemon
    preflight) need only Python
notes:
  - Connection options may also come from the environment (E(DOCKER_HOST), E(DOCKER_TLS),
    E(DOCKER_TLS_VERIFY), E(DOCKER_CERT_PATH), E(DOCKER_API_VERSION), E(DOCKER_TIMEOUT)), as for the
    docker CLI, for example through the task's C(environment) keyword.
"""
