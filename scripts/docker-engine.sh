#!/usr/bin/env bash
# Make sure a Docker Engine answers, starting one only when needed.
#   docker-engine.sh start   use the running Engine; else (root, Debian) install
#                            docker.io if missing, then start docker.service
#                            when systemd is PID 1, or else dockerd in the
#                            background (log: .cache/dockerd/dockerd.log)
#   docker-engine.sh stop    stop what `start` started, and nothing else
#
# .cache/dockerd/started-by-us records what `start` started:
#   docker.service   systemd's unit (stop: systemctl stop docker.service docker.socket)
#   init.d           the package's init script, started by installing docker.io
#                    without systemd (stop: service docker stop)
#   <pid>            our background `dockerd --pidfile .cache/dockerd/dockerd.pid`;
#                    stop signals it only while that pid is still this dockerd
# BULWARK_INIT_SYSTEM=systemd|other skips the check for systemd as PID 1 (tests).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
state=$top/.cache/dockerd
record=$state/started-by-us
pidfile=$state/dockerd.pid
mkdir -p "$state"

engine_answers() { docker info >/dev/null 2>&1; }

# Waits up to 60 s for the Engine; $1 names what was started, $2 where to look on failure.
wait_for_engine() {
    for _ in $(seq 1 120); do
        engine_answers && { echo "$1 is up"; return; }
        sleep 0.5
    done
    echo "$1 did not answer within 60 s; see $2" >&2
    exit 1
}

# The only place that decides whether systemd runs this machine.
systemd_is_init() {
    case ${BULWARK_INIT_SYSTEM:-} in
        systemd) return 0 ;;
        ?*) return 1 ;;
    esac
    [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]
}

has_docker_service() {
    systemd_is_init && [ "$(systemctl show --property=LoadState --value docker.service 2>/dev/null)" = loaded ]
}

need_root() {
    [ "$(id -u)" = 0 ] || { echo "no Docker Engine answers and we are not root: start Docker, or add yourself to the docker group" >&2; exit 1; }
}

install_engine() {
    command -v apt-get >/dev/null || { echo "no Docker Engine answers and this is not Debian: install and start Docker first" >&2; exit 1; }
    echo "installing docker.io from Debian's archive"
    "$top/scripts/apt-install.sh" docker.io
}

start() {
    if engine_answers; then
        echo "using the running Docker Engine ($(docker version --format '{{.Server.Version}}'))"
        # A run that was interrupted before its `stop` left its record: this run stops it.
        [ ! -s "$record" ] || echo "(an earlier run of this script started it: it is stopped at the end)"
        return
    fi
    need_root
    local installed=
    if ! command -v dockerd >/dev/null; then
        install_engine
        installed=1
        if engine_answers; then
            # Installing started it (the package's service or init script): stop it at the end.
            if has_docker_service; then echo docker.service >"$record"; else echo init.d >"$record"; fi
            echo "installing docker.io started the Docker Engine; using it"
            return
        fi
    fi
    if has_docker_service; then
        if systemctl is-active --quiet docker.service; then
            echo "docker.service is running but does not answer yet; waiting"
            # Installing docker.io started it: stop it at the end.
            [ -z "$installed" ] || echo docker.service >"$record"
        else
            echo "starting docker.service"
            systemctl start docker.service
            echo docker.service >"$record"
        fi
        wait_for_engine docker.service "journalctl -u docker.service"
        return
    fi
    echo "starting dockerd (log: $state/dockerd.log)"
    dockerd --pidfile "$pidfile" >"$state/dockerd.log" 2>&1 &
    echo $! >"$record"
    wait_for_engine dockerd "$state/dockerd.log"
}

# True while $1 is the dockerd we started: dockerd (run directly or by an
# interpreter) with our --pidfile. A dead dockerd's pid may belong to anything now.
is_our_dockerd() {
    local args=() i
    [ -r "/proc/$1/cmdline" ] || return 1
    mapfile -d '' args <"/proc/$1/cmdline" 2>/dev/null || return 1
    [ "${#args[@]}" -ge 2 ] || return 1
    [ "${args[0]##*/}" = dockerd ] || [ "${args[1]##*/}" = dockerd ] || return 1
    for ((i = 1; i < ${#args[@]}; i++)); do
        [ "${args[i]}" = "--pidfile=$pidfile" ] && return 0
        [ "${args[i]}" = --pidfile ] && [ "${args[i + 1]:-}" = "$pidfile" ] && return 0
    done
    return 1
}

stop_dockerd() {
    local pid=$1
    if ! is_our_dockerd "$pid"; then
        echo "the dockerd we started (pid $pid) is gone; nothing to stop"
        return 0
    fi
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do
        is_our_dockerd "$pid" || { echo "stopped the dockerd we started"; return 0; }
        sleep 0.5
    done
    if is_our_dockerd "$pid"; then
        kill -9 "$pid" 2>/dev/null || true
        echo "killed the dockerd we started (still running 30 s after SIGTERM)"
    else
        echo "stopped the dockerd we started"
    fi
}

stop() {
    [ -f "$record" ] || return 0
    local what
    what=$(cat "$record")
    rm -f "$record"
    case $what in
        docker.service)
            systemctl stop docker.service docker.socket
            echo "stopped docker.service (we started it)" ;;
        init.d)
            service docker stop
            echo "stopped the docker service (installing it started it)" ;;
        '' | *[!0-9]*)
            echo "ignoring an unknown record in $record: $what" >&2 ;;
        *)
            stop_dockerd "$what" ;;
    esac
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
