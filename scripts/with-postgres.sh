#!/usr/bin/env bash
# Run a command with QAMQOR_TEST_DATABASE_URL pointing at a PostgreSQL server: the one on
# 127.0.0.1:5432 when it answers, otherwise a throwaway cluster under /tmp, stopped afterwards.
set -euo pipefail
url="${QAMQOR_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
  QAMQOR_TEST_DATABASE_URL="$url" exec "$@"
fi
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [[ -z "$bin" ]]; then
  echo "No PostgreSQL server answers on 127.0.0.1:5432 and none is installed" >&2
  exit 1
fi
dir=$(mktemp -d /tmp/qamqor-pg.XXXXXX)
port=54329
run_as=()
if [[ $(id -u) -eq 0 ]]; then
  chown postgres "$dir"
  run_as=(runuser -u postgres --)
fi
"${run_as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
"${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -o "-p $port -k $dir -c listen_addresses=127.0.0.1" -l "$dir/log" -w start >/dev/null
trap '"${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null; rm -rf "$dir"' EXIT
QAMQOR_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres" "$@"
