#!/usr/bin/env bash
# Brings up a project-local PostgreSQL cluster: data under .data/, loopback only, a free port,
# run as an unprivileged user (PostgreSQL refuses root). Sourced by run.sh and test.sh.
#   pg_start <data-dir> [fast]   exports ConnectionStrings__Postgres (starting the cluster, or reusing it if it runs)
#   pg_stop <data-dir>

pg_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [[ -z "$dir" || ! -x "$dir/initdb" ]]; then
    echo "PostgreSQL binaries not found: installing the 'postgresql' package..." >&2
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2 \
      || { echo "Could not install PostgreSQL; set ConnectionStrings__Postgres to use an existing server." >&2; return 1; }
    # The package starts a system cluster of its own on 5432; ours does not need it.
    dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$dir"
}

pg_free_port() {
  local port=${1:-55432}
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}

# Runs a command as the cluster's owner: ourselves, or 'postgres' when we are root.
pg_as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    if ! id postgres >/dev/null 2>&1; then
      useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_start() {
  local data=$1 mode=${2:-}
  local bin port password
  bin=$(pg_bindir) || return 1
  mkdir -p "$data"
  data=$(cd "$data" && pwd)
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || pg_as_owner true
    chown postgres "$data"; chmod 700 "$data"
    # The cluster runs as 'postgres', which must be able to reach its data directory: a checkout
    # under a private folder (mktemp -d makes them 700) gets the traverse bit only, not read.
    local dir=$data
    while ! runuser -u postgres -- test -x "$data" 2>/dev/null && [[ "$dir" != "/" ]]; do
      dir=$(dirname "$dir")
      runuser -u postgres -- test -x "$dir" 2>/dev/null || { chmod o+x "$dir"; echo "Gave others the traverse bit on $dir (for PostgreSQL)." >&2; }
    done
  fi

  if [[ ! -f "$data/cluster/PG_VERSION" ]]; then
    password=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)
    echo "$password" > "$data/password"
    [[ $(id -u) -eq 0 ]] && chown postgres "$data/password"
    pg_as_owner "$bin/initdb" -D "$data/cluster" -U postgres --auth=scram-sha-256 --pwfile="$data/password" \
      --encoding=UTF8 --locale=C.UTF-8 >"$data/initdb.log" 2>&1 \
      || { cat "$data/initdb.log" >&2; return 1; }
  fi
  password=$(cat "$data/password")

  # Already running (an earlier pg_start in another shell): use it as it is.
  if [[ -f "$data/cluster/postmaster.pid" ]] && pg_as_owner "$bin/pg_ctl" -D "$data/cluster" status >/dev/null 2>&1; then
    port=$(sed -n 4p "$data/cluster/postmaster.pid")
    export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$port;Database=rappel;Username=postgres;Password=$password;Maximum Pool Size=100"
    echo "PostgreSQL already running on 127.0.0.1:$port (data in $data)" >&2
    return 0
  fi

  # A port free when looked at may be taken before the server binds it (the range is also the
  # kernel's range for outgoing connections): then the next one is tried.
  local attempt options
  port=${PGPORT_START:-55432}
  for attempt in 1 2 3 4 5; do
    port=$(pg_free_port "$port")
    options="-c listen_addresses=127.0.0.1 -p $port -k $data -c max_connections=300"
    # A throwaway test cluster need not survive a power cut.
    # It also serves the whole test suite at once: three projects, each test class with its own pools.
    [[ "$mode" == "fast" ]] && options="$options -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=1000"
    # Extra server settings for a diagnosis, e.g. PG_OPTIONS="-c shared_preload_libraries=pg_stat_statements".
    options="$options ${PG_OPTIONS:-}"
    rm -f "$data/postgres.log"
    pg_as_owner "$bin/pg_ctl" -D "$data/cluster" -l "$data/postgres.log" -o "$options" -w -t 60 start >/dev/null && break
    if [[ $attempt -eq 5 ]] || ! grep -q "Address already in use" "$data/postgres.log"; then
      tail -n 20 "$data/postgres.log" >&2
      return 1
    fi
    port=$((port + 1))
  done

  PGPASSWORD="$password" "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
    "select 1 from pg_database where datname = 'rappel'" | grep -q 1 \
    || PGPASSWORD="$password" "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "create database rappel" >/dev/null

  export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$port;Database=rappel;Username=postgres;Password=$password;Maximum Pool Size=100"
  echo "PostgreSQL on 127.0.0.1:$port (data in $data)" >&2
}

pg_stop() {
  local data=$1 bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -f "$data/cluster/postmaster.pid" && -n "$bin" ]] && pg_as_owner "$bin/pg_ctl" -D "$data/cluster" -m fast -w stop >/dev/null 2>&1
  return 0
}
