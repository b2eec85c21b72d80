#!/usr/bin/env bash
# Make sure a Docker Engine answers, starting one only when needed.
#   docker-engine.sh start   use the running Engine; else (root, Debian) install
#                            docker.io if missing and start dockerd in the
#                            background, logging to .cache/dockerd.log
#   docker-engine.sh stop    stop dockerd, but only if `start` started it
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
state=$top/.cache/dockerd
mkdir -p "$state"

engine_answers() { docker info >/dev/null 2>&1; }

install_engine() {
    [ "$(id -u)" = 0 ] || { echo "no Docker Engine answers and we are not root: start Docker, or add yourself to the docker group" >&2; exit 1; }
    command -v apt-get >/dev/null || { echo "no Docker Engine answers and this is not Debian: install and start Docker first" >&2; exit 1; }
    echo "installing docker.io from Debian's archive"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
}

start() {
    if engine_answers; then
        echo "using the running Docker Engine ($(docker version --format '{{.Server.Version}}'))"
        return
    fi
    command -v dockerd >/dev/null || install_engine
    echo "starting dockerd (log: $state/dockerd.log)"
    dockerd --pidfile "$state/dockerd.pid" >"$state/dockerd.log" 2>&1 &
    echo $! >"$state/started-by-us"
    for _ in $(seq 1 60); do
        engine_answers && { echo "dockerd is up"; return; }
        sleep 1
    done
    tail -n 20 "$state/dockerd.log" >&2
    echo "dockerd did not answer within 60 s (log above)" >&2
    exit 1
}

stop() {
    [ -f "$state/started-by-us" ] || return 0
    local pid
    pid=$(cat "$state/started-by-us")
    rm -f "$state/started-by-us"
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 30); do
        kill -0 "$pid" 2>/dev/null || { echo "stopped the dockerd we started"; return 0; }
        sleep 1
    done
    kill -9 "$pid" 2>/dev/null || true
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
