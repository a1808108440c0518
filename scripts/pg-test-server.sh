#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the storage contract suite (local runs and CI).
#
#   scripts/pg-test-server.sh start    init (once) + start; prints SIGNET_TEST_DATABASE_URL=...
#   scripts/pg-test-server.sh url      print the URL of the running server
#   scripts/pg-test-server.sh stop     stop the server (the data directory is kept)
#   scripts/pg-test-server.sh destroy  stop and delete the data directory
#
#   eval "$(scripts/pg-test-server.sh start)" && export SIGNET_TEST_DATABASE_URL
#
# The cluster trusts every local connection and runs with fsync off: for tests only, never data.
# Only the last line of `start` goes to stdout; progress goes to stderr.
#
# Environment: SIGNET_PG_DIR (default $TMPDIR/signet-pg-test), SIGNET_PG_PORT (first port tried,
# default 55432), SIGNET_PG_BINDIR (default: found), SIGNET_PG_OS_USER (owner when run as root,
# default postgres; created when missing).
set -euo pipefail

cmd="${1:-start}"
dir="${SIGNET_PG_DIR:-${TMPDIR:-/tmp}/signet-pg-test}"
data="$dir/data"
port_file="$dir/port"
db_name="signet_test"
db_user="postgres"

log() { echo "pg-test-server: $*" >&2; }

find_bindir() {
  if [[ -n "${SIGNET_PG_BINDIR:-}" ]]; then echo "$SIGNET_PG_BINDIR"; return; fi
  local candidate
  # Debian's /usr/bin wrappers for initdb/pg_ctl need postgresql-common; use the real binaries.
  for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]] && { echo "$candidate"; return; }
  done
  if command -v pg_config >/dev/null && [[ -x "$(pg_config --bindir)/initdb" ]]; then pg_config --bindir; return; fi
  candidate="$(command -v initdb || true)"
  [[ -n "$candidate" ]] && { dirname "$(readlink -f "$candidate")"; return; }
  log "no PostgreSQL binaries found (set SIGNET_PG_BINDIR)"; exit 1
}
bin="$(find_bindir)"

# PostgreSQL refuses to run as root: as root, the cluster belongs to an unprivileged OS user.
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u "$os_user" -- "$@"; else "$@"; fi
}
os_user="$(id -un)"
if [[ "$(id -u)" == 0 ]]; then
  os_user="${SIGNET_PG_OS_USER:-postgres}"
  if ! id "$os_user" >/dev/null 2>&1; then
    log "creating OS user $os_user"
    useradd --system --no-create-home --shell /usr/sbin/nologin "$os_user"
  fi
fi

running() { [[ -f "$data/postmaster.pid" ]] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

url() { echo "postgres://$db_user@127.0.0.1:$(cat "$port_file")/$db_name"; }

start() {
  mkdir -p "$dir"
  chmod 755 "$dir"
  if [[ "$(id -u)" == 0 ]]; then chown "$os_user" "$dir"; fi
  if [[ ! -f "$data/PG_VERSION" ]]; then
    log "initdb in $data"
    as_owner "$bin/initdb" -D "$data" -U "$db_user" --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  fi
  if running; then
    log "already running on port $(cat "$port_file")"
  else
    local port="${SIGNET_PG_PORT:-55432}"
    while ! port_free "$port"; do port=$((port + 1)); done
    echo "$port" >"$port_file"
    log "starting on 127.0.0.1:$port"
    # Durability off: a throwaway cluster only has to be fast.
    as_owner "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 30 start -o \
      "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null \
      || { log "start failed; see $dir/server.log"; tail -n 20 "$dir/server.log" >&2; exit 1; }
  fi
  local port; port="$(cat "$port_file")"
  if [[ "$(as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U "$db_user" -d postgres -tAc "select 1 from pg_database where datname = '$db_name'")" != 1 ]]; then
    as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U "$db_user" -d postgres -qc "create database $db_name" >/dev/null
  fi
  echo "SIGNET_TEST_DATABASE_URL=$(url)"
}

stop() {
  if running; then
    log "stopping"
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  fi
}

case "$cmd" in
  start) start ;;
  url) running || { log "not running"; exit 1; }; url ;;
  stop) stop ;;
  destroy) stop; rm -rf "$dir" ;;
  *) echo "usage: $0 start|url|stop|destroy" >&2; exit 2 ;;
esac
