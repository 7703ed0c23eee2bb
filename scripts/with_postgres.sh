#!/usr/bin/env bash
# Run a command against a throw-away PostgreSQL cluster: scripts/with_postgres.sh make test
#
# Starts Debian's PostgreSQL (/usr/lib/postgresql/*/bin) in a temporary data directory, as the
# `postgres` user when run as root (initdb and postgres refuse root), on its own port
# (FOLLOWUP_TEST_POSTGRES_PORT, default 55432), listening on 127.0.0.1 only; creates the database
# followup_test; exports FOLLOWUP_TEST_POSTGRES_URL; runs the command; and stops the cluster and
# removes its directory at the end, on failure too. The command's exit status is returned.
set -euo pipefail
if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG...]   (e.g. $0 make test)" >&2
    exit 2
fi
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)." >&2
    echo "Install it (Debian/Ubuntu: apt-get install -y postgresql), or set" >&2
    echo "FOLLOWUP_TEST_POSTGRES_URL=postgresql://USER@127.0.0.1:PORT/DB to a server of your own." >&2
    exit 1
fi
port=${FOLLOWUP_TEST_POSTGRES_PORT:-55432}
if [ "$(id -u)" -eq 0 ]; then
    as_owner=(runuser -u postgres --)
    owner=postgres
else
    as_owner=()
    owner=$(id -un)
fi
workdir=$(mktemp -d)
chmod 755 "$workdir"
data="$workdir/data"
install -d -o "$owner" -m 700 "$data"
stop_cluster() {
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$workdir"
}
trap stop_cluster EXIT
"${as_owner[@]}" "$bindir/initdb" -D "$data" -A trust -U postgres -E UTF8 >"$workdir/initdb.log" 2>&1 \
    || { cat "$workdir/initdb.log" >&2; exit 1; }
"${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -l "$data/server.log" \
    -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off" -w start >/dev/null \
    || { cat "$data/server.log" >&2; exit 1; }
"$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres followup_test
export FOLLOWUP_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/followup_test"
export FOLLOWUP_TEST_PG_BIN="$bindir"
echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (throw-away, $data)" >&2
set +e
"$@"
status=$?
set -e
exit "$status"
