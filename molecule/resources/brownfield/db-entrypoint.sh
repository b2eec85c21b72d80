#!/bin/sh
# The brownfield app's database: a cluster in the volume, made on first start
# (trust for the app's network: a test database, no secret to leak), then
# PostgreSQL in the foreground, logging to stderr. Its socket stays where
# Debian puts it (/run/postgresql). No JIT: the image leaves LLVM out.
set -eu
data=/var/lib/postgresql/data
bin=$(echo /usr/lib/postgresql/*/bin)
if [ ! -s "$data/PG_VERSION" ]; then
    "$bin/initdb" --pgdata="$data" --username=postgres --auth=trust --encoding=UTF8 --no-instructions >/dev/null
    echo "host all all samenet trust" >> "$data/pg_hba.conf"
    "$bin/pg_ctl" --pgdata="$data" --options="-c listen_addresses=''" --wait --silent start
    "$bin/psql" --quiet --username=postgres --command="CREATE USER shop" --command="CREATE DATABASE shop OWNER shop"
    "$bin/pg_ctl" --pgdata="$data" --mode=fast --wait --silent stop
fi
exec "$bin/postgres" -D "$data" -c listen_addresses='*' -c unix_socket_directories=/run/postgresql -c jit=off
