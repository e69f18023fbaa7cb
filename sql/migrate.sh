#!/bin/bash
# Apply the numbered migrations sql/NNN_name.sql in order.
#
#   sql/migrate.sh CONNINFO        e.g. "host=127.0.0.1 port=5433 dbname=dukcapil user=dukcapil"
#
# Each file runs in one transaction together with its row in schema_migration, so
# a file is either applied and recorded, or neither. Applied versions are skipped,
# so running the script again changes nothing. Any error stops it with exit 1,
# and so does a database at a version newer than the newest file here.
# A migration file must not contain its own BEGIN/COMMIT.

set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 CONNINFO" >&2
    exit 2
fi

conninfo=$1
sql_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
psql_cmd=(psql -X -q -v ON_ERROR_STOP=1 --no-psqlrc -d "$conninfo")

fail() {
    echo "migrate: $*" >&2
    exit 1
}

# The advisory lock serialises concurrent migrate.sh runs (two deploys at once).
lock="SELECT pg_advisory_xact_lock(7310001)"

"${psql_cmd[@]}" --single-transaction -c "$lock" -c "
    CREATE TABLE IF NOT EXISTS schema_migration (
        version    int PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
    )" >/dev/null || fail "cannot reach the database or create schema_migration"

applied=$("${psql_cmd[@]}" -A -t -c "SELECT version FROM schema_migration ORDER BY 1") \
    || fail "cannot read schema_migration"

shopt -s nullglob
files=("$sql_dir"/[0-9][0-9][0-9]_*.sql)
[ ${#files[@]} -gt 0 ] || fail "no migrations in $sql_dir"

# Never backwards: a database migrated by a newer release (a version above
# the newest file here) is left alone, whatever else it lacks.
newest_known=$(basename "${files[-1]}")
newest_known=$((10#${newest_known:0:3}))
newest_applied=$(sort -n <<<"$applied" | tail -1)
if [ -n "$newest_applied" ] && [ "$newest_applied" -gt "$newest_known" ]; then
    fail "the database is at version $newest_applied, newer than the newest migration here ($newest_known, in $sql_dir): refusing to run backwards; apply the migrations of the release that brought version $newest_applied, or a later one"
fi

declare -A seen=()

for file in "${files[@]}"; do
    base=$(basename "$file" .sql)
    [[ $base =~ ^[0-9]{3}_[a-z0-9_]+$ ]] \
        || fail "$base.sql: a migration is named NNN_lower_case_name.sql"
    version=$((10#${base:0:3}))
    name=${base:4}

    if [ -n "${seen[$version]:-}" ]; then
        fail "two migrations with version $version: ${seen[$version]} and $base"
    fi
    seen[$version]=$base

    if grep -qxF "$version" <<<"$applied"; then
        continue
    fi

    if grep -qiE '^[[:space:]]*(BEGIN|START[[:space:]]+TRANSACTION|COMMIT|ROLLBACK)[[:space:]]*(WORK|TRANSACTION)?[[:space:]]*;' "$file"; then
        fail "$base.sql has its own BEGIN/COMMIT; migrate.sh wraps each file in one transaction"
    fi

    # Under the lock, check again: another run may have applied it meanwhile.
    if ! "${psql_cmd[@]}" --single-transaction -f - >/dev/null <<SQL; then
$lock;
SELECT EXISTS (SELECT FROM schema_migration WHERE version = $version) AS already \\gset
\\if :already
\\warn 'migrate: $base already applied by another run'
\\else
INSERT INTO schema_migration (version, name) VALUES ($version, '$name');
\\i '$file'
\\warn 'migrate: applied $base'
\\endif
SQL
        fail "$base.sql failed; nothing of it was applied"
    fi

done

echo "migrate: schema at version $(
    "${psql_cmd[@]}" -A -t -c "SELECT max(version) FROM schema_migration")"
