#!/usr/bin/env bash
# What deploy/oracle-ci/github-actions-oracle.yml does, on one machine with Docker or Podman:
#
#   deploy/oracle-ci/run-local.sh
#
#   1. start Oracle Database Free (gvenzl/oracle-free:23-slim, container sms-bridge-oracle-ci,
#      port 127.0.0.1:1521) with the application user smsbridge
#   2. wait until the image says DATABASE IS READY TO USE! (the first start creates the
#      database: a few minutes; pulling the image first takes longer, and is not timed)
#   3. sms-bridge db install, twice (it must be idempotent)
#   4. the round trip: PL/SQL enqueue -> run --once -> sandbox -> callback -> DELIVERED
#      (deploy/oracle-ci/round_trip.sh)
#   5. the store contract suite on Oracle and the static PL/SQL checks (pytest)
#   6. utPLSQL into UT3 (downloaded from its GitHub release; needs curl and unzip)
#   7. the utPLSQL suites of plsql/tests (deploy/oracle-ci/utplsql_suites.py)
#
# Run from anywhere in the checkout, with the bridge installed (make venv, or pip install -e
# '.[test]'). The container is removed at the end unless KEEP_CONTAINER=1. Settings, all
# optional: CONTAINER_ENGINE (docker or podman; default: whichever is found first),
# ORACLE_IMAGE, ORACLE_CONTAINER, ORACLE_PORT, ORACLE_START_TIMEOUT (seconds, default 900),
# PYTHON (default: the checkout's .venv/bin/python, else python3), UTPLSQL_VERSION, SKIP_UTPLSQL=1.
# One line per step; a failure ends it with one line naming the step and the reason (exit 1).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root="$(pwd)"

IMAGE="${ORACLE_IMAGE:-gvenzl/oracle-free:23-slim}"
NAME="${ORACLE_CONTAINER:-sms-bridge-oracle-ci}"
PORT="${ORACLE_PORT:-1521}"
START_TIMEOUT="${ORACLE_START_TIMEOUT:-900}"
UTPLSQL_VERSION="${UTPLSQL_VERSION:-v3.1.14}"
# A throwaway database in a throwaway container, as in the CI recipe: not secrets.
SYS_PASSWORD="ci-sys-password"
APP_USER="smsbridge"
APP_PASSWORD="ci-smsbridge-password"
SERVICE="FREEPDB1"
DSN="oracle://$APP_USER:$APP_PASSWORD@localhost:$PORT/$SERVICE"

say() { printf 'run-local: %s\n' "$*"; }
fail() {
    printf 'run-local: FAIL: %s\n' "$*" >&2
    exit 1
}

if [[ -n "${CONTAINER_ENGINE:-}" ]]; then
    engine="$CONTAINER_ENGINE"
elif command -v docker >/dev/null; then
    engine="docker"
elif command -v podman >/dev/null; then
    engine="podman"
else
    fail "neither docker nor podman is installed (or set CONTAINER_ENGINE)"
fi
command -v "$engine" >/dev/null || fail "$engine is not installed"
if [[ -n "${PYTHON:-}" ]]; then
    python="$PYTHON"
elif [[ -x "$root/.venv/bin/python" ]]; then
    python="$root/.venv/bin/python"
else
    python="python3"
fi
"$python" -c 'import bridge, oracledb, pytest, gunicorn' 2>/dev/null \
    || fail "$python cannot import the bridge and its test tools: run make venv first"
[[ "$START_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || fail "ORACLE_START_TIMEOUT must be a whole number"

work="$(mktemp -d "${TMPDIR:-/tmp}/sms-bridge-oracle-ci.XXXXXX")"
started=0
cleanup() {
    if [[ "$started" == 1 && "${KEEP_CONTAINER:-0}" != 1 ]]; then
        "$engine" rm -f "$NAME" >/dev/null 2>&1 || true
    elif [[ "$started" == 1 ]]; then
        say "container $NAME kept: $DSN (remove it with: $engine rm -f $NAME)"
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# -- 1. the database ------------------------------------------------------------------------
if "$engine" container inspect "$NAME" >/dev/null 2>&1; then
    fail "a container named $NAME exists already: remove it ($engine rm -f $NAME) or set" \
        "ORACLE_CONTAINER"
fi
say "1/7 pulling $IMAGE and starting container $NAME (port 127.0.0.1:$PORT)"
"$engine" pull -q "$IMAGE" >/dev/null || fail "$engine pull $IMAGE failed"
"$engine" run -d --name "$NAME" -p "127.0.0.1:$PORT:1521" \
    -e ORACLE_PASSWORD="$SYS_PASSWORD" -e APP_USER="$APP_USER" \
    -e APP_USER_PASSWORD="$APP_PASSWORD" "$IMAGE" >/dev/null \
    || fail "$engine run $IMAGE failed (is port $PORT free? set ORACLE_PORT)"
started=1

# -- 2. wait for it -------------------------------------------------------------------------
deadline=$((SECONDS + START_TIMEOUT))
# The log into a file, then grep: `logs | grep -q` would fail under pipefail when grep stops
# reading at the first match.
ready() {
    "$engine" logs "$NAME" >"$work/oracle.log" 2>&1 || true
    grep -q 'DATABASE IS READY TO USE!' "$work/oracle.log"
}
until ready; do
    running="$("$engine" container inspect -f '{{.State.Running}}' "$NAME" 2>/dev/null || true)"
    if [[ "$running" != true ]]; then
        fail "container $NAME stopped while starting: $(tail -n 1 "$work/oracle.log")"
    fi
    ((SECONDS < deadline)) || fail "the database was not ready within ${START_TIMEOUT}s" \
        "($engine logs $NAME)"
    sleep 5
done
say "2/7 Oracle Database Free is ready: $APP_USER@localhost:$PORT/$SERVICE"

# -- 3. the schema --------------------------------------------------------------------------
export SMS_BRIDGE_DATABASE_URL="oracle://$APP_USER@localhost:$PORT/$SERVICE"
export SMS_BRIDGE_DATABASE_PASSWORD="$APP_PASSWORD"
for run in 1 2; do
    "$python" -m bridge.cli db install >"$work/install-$run.log" 2>&1 \
        || fail "sms-bridge db install (run $run): $(tail -n 1 "$work/install-$run.log")"
done
say "3/7 sms-bridge db install, twice: $(tail -n 1 "$work/install-2.log")"
unset SMS_BRIDGE_DATABASE_URL SMS_BRIDGE_DATABASE_PASSWORD

# -- 4. the round trip ----------------------------------------------------------------------
PYTHON="$python" bash deploy/oracle-ci/round_trip.sh "$DSN" \
    || fail "the round trip (deploy/oracle-ci/round_trip.sh) failed: see its lines above"
say "4/7 round trip: DELIVERED"

# -- 5. the Python suites on Oracle ---------------------------------------------------------
SMS_BRIDGE_TEST_ORACLE_DSN="$DSN" "$python" -m pytest -q tests/store/test_store_oracle.py \
    tests/plsql -ra || fail "pytest tests/store/test_store_oracle.py tests/plsql failed"
say "5/7 store contract on Oracle and static PL/SQL checks passed"

if [[ "${SKIP_UTPLSQL:-0}" == 1 ]]; then
    say "6/7 and 7/7 skipped (SKIP_UTPLSQL=1)"
    say "OK"
    exit 0
fi

# -- 6. utPLSQL -----------------------------------------------------------------------------
command -v curl >/dev/null || fail "curl is needed to download utPLSQL"
command -v unzip >/dev/null || fail "unzip is needed to unpack utPLSQL"
curl -fsSL -o "$work/utPLSQL.zip" \
    "https://github.com/utPLSQL/utPLSQL/releases/download/$UTPLSQL_VERSION/utPLSQL.zip" \
    || fail "downloading utPLSQL $UTPLSQL_VERSION failed"
unzip -q "$work/utPLSQL.zip" -d "$work"
"$engine" cp "$work/utPLSQL/source" "$NAME:/tmp/utplsql" \
    || fail "$engine cp of utPLSQL into $NAME failed"
# install_headless.sql <schema> <password> <tablespace>: UT3 with public synonyms and grants.
"$engine" exec -w /tmp/utplsql "$NAME" sqlplus -S -L \
    "sys/$SYS_PASSWORD@//localhost:1521/$SERVICE as sysdba" \
    @install_headless.sql UT3 "ut3-$SYS_PASSWORD" USERS >"$work/utplsql-install.log" 2>&1 \
    || fail "utPLSQL install failed: $(tail -n 1 "$work/utplsql-install.log")"
say "6/7 utPLSQL $UTPLSQL_VERSION installed into UT3"

# -- 7. the utPLSQL suites ------------------------------------------------------------------
"$python" deploy/oracle-ci/utplsql_suites.py compile "$DSN" || fail "compiling plsql/tests failed"
"$python" deploy/oracle-ci/utplsql_suites.py run "$DSN" || fail "the utPLSQL suites failed"
say "7/7 utPLSQL suites (test_sms_api, test_hr_cert_sms) passed"
say "OK"
