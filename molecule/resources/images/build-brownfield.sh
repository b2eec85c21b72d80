#!/usr/bin/env bash
# Build the brownfield scenario's application images (../brownfield/: web,
# app, db) from Debian's archive, never pulled: debootstrap (minbase) ->
# docker import -> `docker build --target` per service on that base. Images
# are tagged bulwark-brownfield/<service>:<hash of the recipe> and rebuilt only
# when the recipe changes; the three are saved once into one tar that the
# scenario loads into each instance's own Engine.
# Prints the tar's path as its last line. Usage: build-brownfield.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
recipe=$(cd "$here/../brownfield" && pwd)
mirror=${BULWARK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
workdir=${BULWARK_IMAGE_WORKDIR:-/var/tmp/bulwark-images}
suite=bookworm
services=(web app db)
repo=bulwark-brownfield

die() { echo "build-brownfield.sh: $*" >&2; exit 1; }

recipe_hash() {
    # Everything that shapes the images: this script, the Dockerfile, the files it copies, the suite.
    { cat "$here/build-brownfield.sh" "$recipe/Dockerfile" "$recipe/nginx.conf" "$recipe/app.py" \
        "$recipe/db-entrypoint.sh"; echo "$suite"; } | sha256sum | cut -c1-12
}

all_built() {
    local service
    for service in "${services[@]}"; do
        docker image inspect "$repo/$service:$1" >/dev/null 2>&1 || return 1
    done
}

# Images and tars of older recipes are only disk space now.
remove_stale() {
    local keep=$1 service old
    for service in "${services[@]}"; do
        for old in $(docker image ls "$repo/$service" --format '{{.Tag}}'); do
            [ "$old" = "$keep" ] || docker rmi "$repo/$service:$old" >/dev/null || true
        done
    done
    find "$workdir" -maxdepth 1 -name 'brownfield-*.tar' ! -name "brownfield-$keep.tar" -delete
}

build() {
    local tag=$1 service
    [ "$(id -u)" = 0 ] || die "building the brownfield images needs root (debootstrap)"
    command -v debootstrap >/dev/null || "$here/../../../scripts/apt-install.sh" debootstrap \
        || die "could not install debootstrap from Debian's archive"
    local rootfs="$workdir/brownfield-rootfs"
    rm -rf "$rootfs"; mkdir -p "$rootfs"
    echo "building $repo/{${services[*]}}:$tag: debootstrap $suite from $mirror" >&2
    if ! debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$workdir/brownfield-debootstrap.log" 2>&1; then
        tail -n 15 "$workdir/brownfield-debootstrap.log" >&2
        die "debootstrap of $suite from $mirror failed (log: $workdir/brownfield-debootstrap.log)"
    fi
    echo "deb $mirror $suite main" > "$rootfs/etc/apt/sources.list"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    # Smaller images load faster into each instance: no documentation or translations from the packages.
    printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' 'path-exclude=/usr/share/man/*' \
        'path-exclude=/usr/share/info/*' 'path-exclude=/usr/share/locale/*' > "$rootfs/etc/dpkg/dpkg.cfg.d/bulwark-slim"
    tar -C "$rootfs" -c . | docker import - "$repo/base:$tag" >/dev/null
    rm -rf "$rootfs"
    for service in "${services[@]}"; do
        docker build -q --force-rm --build-arg "BASE=$repo/base:$tag" --target "$service" \
            -t "$repo/$service:$tag" "$recipe" >/dev/null
    done
    docker rmi "$repo/base:$tag" >/dev/null  # untag only: the three images keep its layer
}

mkdir -p "$workdir"
tag=$(recipe_hash)
all_built "$tag" || build "$tag"
tar="$workdir/brownfield-$tag.tar"
if [ ! -s "$tar" ]; then
    images=()
    for service in "${services[@]}"; do images+=("$repo/$service:$tag"); done
    docker save -o "$tar.partial" "${images[@]}"
    mv "$tar.partial" "$tar"
fi
remove_stale "$tag"
echo "$tar"
