#!/usr/bin/env bash
# Build the Debian systemd test images from Debian's archive, never pulled:
#   debootstrap (minbase + what an instance needs) -> docker import -> docker build.
# Images are tagged by a hash of this recipe and the suite, and rebuilt only
# when the recipe changes. Usage: build.sh [bookworm|trixie ...]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
apt_install=$here/../../../scripts/apt-install.sh
mirror=${BULWARK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
workdir=${BULWARK_IMAGE_WORKDIR:-/var/tmp/bulwark-images}
packages="busybox-static,systemd,systemd-sysv,dbus,python3,python3-apt,python3-docker,sudo,docker.io,iproute2,iptables,procps,ca-certificates,curl,kmod,unattended-upgrades,docker-compose"

declare -A version=([bookworm]=12 [trixie]=13)
# From trixie on, the docker CLI is its own package.
declare -A extra_packages=([bookworm]="" [trixie]=",docker-cli")

recipe_hash() {
    # Everything that shapes the image: this script, the Dockerfile and the
    # files it copies, the suite and the package list.
    { cat "$here/build.sh" "$here/Dockerfile" "$here"/unmask-kernel-paths.*; echo "$1 $packages${extra_packages[$1]}"; } \
        | sha256sum | cut -c1-12
}

die() { echo "build.sh: $*" >&2; exit 1; }

ensure_debootstrap() {
    command -v debootstrap >/dev/null && return
    command -v apt-get >/dev/null || die "debootstrap is not installed and there is no apt-get to install it"
    echo "installing debootstrap"
    "$apt_install" debootstrap || die "could not install debootstrap from Debian's archive"
}

# Images of older recipes are only disk space now.
remove_stale_tags() {
    local repo=$1 keep=$2 old
    for old in $(docker image ls "$repo" --format '{{.Tag}}'); do
        [ "$old" = "$keep" ] || [ "$old" = latest ] || docker rmi "$repo:$old" >/dev/null || true
    done
}

build_one() {
    local suite=$1 num=${version[$1]:-}
    [ -n "$num" ] || die "unknown suite '$suite' (known: ${!version[*]})"
    local repo="bulwark-molecule/debian${num}" tag
    tag=$(recipe_hash "$suite")
    if docker image inspect "$repo:$tag" >/dev/null 2>&1; then
        docker tag "$repo:$tag" "$repo:latest"
        echo "$repo:$tag is up to date"
        return
    fi
    [ "$(id -u)" = 0 ] || die "building $repo needs root (debootstrap)"
    ensure_debootstrap

    local rootfs="$workdir/$suite-rootfs"
    rm -rf "$rootfs"; mkdir -p "$rootfs"
    echo "building $repo:$tag: debootstrap $suite from $mirror (about a minute)"
    if ! debootstrap --variant=minbase --include="$packages${extra_packages[$suite]}" "$suite" "$rootfs" "$mirror" \
            >"$workdir/$suite-debootstrap.log" 2>&1; then
        tail -n 15 "$workdir/$suite-debootstrap.log" >&2
        die "debootstrap of $suite from $mirror failed (is the archive reachable? log: $workdir/$suite-debootstrap.log)"
    fi
    # Keep apt usable inside the instance; drop caches to keep the image small.
    echo "deb $mirror $suite main" > "$rootfs/etc/apt/sources.list"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

    tar -C "$rootfs" -c . | docker import - "$repo-base:$tag" >/dev/null
    rm -rf "$rootfs"
    docker build -q --build-arg "BASE=$repo-base:$tag" -t "$repo:$tag" "$here" >/dev/null
    docker tag "$repo:$tag" "$repo:latest"
    docker rmi "$repo-base:$tag" >/dev/null
    remove_stale_tags "$repo" "$tag"
    echo "built $repo:$tag"
}

mkdir -p "$workdir"
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bookworm trixie)
for suite in "${suites[@]}"; do
    build_one "$suite"
done
