#!/usr/bin/env bash
# A full round trip through an installed schema, as in production but with the local Twilio
# sandbox: a PL/SQL block queues an SMS (sms_api.enqueue_number, committed) -> `sms-bridge run
# --once` sends it to the sandbox -> the sandbox POSTs the status callbacks to `sms-bridge
# serve` -> the message is DELIVERED, by a callback.
#
#   deploy/oracle-ci/round_trip.sh oracle://USER:PASSWORD@HOST:PORT/SERVICE
#   (or the DSN in SMS_BRIDGE_TEST_ORACLE_DSN, the format of the Oracle contract tests)
#
# The schema must be installed first (`sms-bridge db install`). A sqlite:///PATH of an
# installed SQLite file is accepted too, with `sms-bridge enqueue` queueing instead of PL/SQL:
# a dry run of this script where no Oracle is at hand (tests/test_deploy_examples.py runs it).
#
# One line per step; on a failure one line with the reason and the log to read, exit 1 (2 for
# a wrong argument). Every wait is bounded by ROUND_TRIP_TIMEOUT seconds (default 60). The
# processes it starts (sandbox, serve) are stopped on exit; logs stay in ROUND_TRIP_DIR
# (default: a new temporary directory, removed after a success).
# Environment: PYTHON (default python3: the interpreter the bridge is installed in),
# SMS_BRIDGE_DATABASE_DRIVER_MODE / _CLIENT_LIB_DIR (thick mode) are passed on.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
TIMEOUT="${ROUND_TRIP_TIMEOUT:-60}"
SENDER="RT"
FROM_NUMBER="+15005550006"  # the sandbox's own number (its default)
TO_NUMBER="+14155550102"    # a handset the sandbox delivers to (not a magic number)
ACCOUNT_SID="AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN="round-trip-auth-token"

say() { printf 'round-trip: %s\n' "$*"; }
fail() {
    printf 'round-trip: FAIL: %s\n' "$*" >&2
    exit 1
}
usage() {
    printf 'round-trip: %s\nusage: %s oracle://USER:PASSWORD@HOST:PORT/SERVICE\n' "$1" "$0" >&2
    exit 2
}

dsn="${1:-${SMS_BRIDGE_TEST_ORACLE_DSN:-}}"
[[ -n "$dsn" ]] || usage "no DSN: give it as the argument or in SMS_BRIDGE_TEST_ORACLE_DSN"
case "$dsn" in
    oracle://* | sqlite:///*) ;;
    *) usage "the DSN must start with oracle:// or sqlite:///" ;;
esac
[[ "$TIMEOUT" =~ ^[1-9][0-9]*$ ]] || usage "ROUND_TRIP_TIMEOUT must be a whole number of seconds"
command -v "$PYTHON" >/dev/null || usage "no $PYTHON: set PYTHON to the bridge's interpreter"
"$PYTHON" -c 'import bridge, sandbox, gunicorn' 2>/dev/null \
    || usage "$PYTHON cannot import bridge, sandbox and gunicorn: pip install -e '.[test]' first"

# The password goes to SMS_BRIDGE_DATABASE_PASSWORD, not into the URL the bridge shows.
if [[ "$dsn" == oracle://* ]]; then
    if ! split="$("$PYTHON" - "$dsn" <<'PY'
import sys
from urllib.parse import quote

from bridge.errors import ConfigError
from bridge.store.oracle_dialect import parse_url

try:
    target = parse_url(sys.argv[1])
except ConfigError as exc:
    sys.exit(str(exc))
print(f"oracle://{quote(target.user, safe='')}@{target.dsn}")
print(target.password)
PY
    )"; then
        usage "the DSN is not oracle://USER:PASSWORD@HOST:PORT/SERVICE"
    fi
    SMS_BRIDGE_DATABASE_URL="${split%%$'\n'*}"
    SMS_BRIDGE_DATABASE_PASSWORD="${split#*$'\n'}"
    [[ "$SMS_BRIDGE_DATABASE_PASSWORD" != "$split" ]] || SMS_BRIDGE_DATABASE_PASSWORD=""
else
    SMS_BRIDGE_DATABASE_URL="$dsn"
    SMS_BRIDGE_DATABASE_PASSWORD=""
fi
export SMS_BRIDGE_DATABASE_URL SMS_BRIDGE_DATABASE_PASSWORD

if [[ -n "${ROUND_TRIP_DIR:-}" ]]; then
    work="$ROUND_TRIP_DIR"
    mkdir -p "$work"
    keep_work=1
else
    work="$(mktemp -d "${TMPDIR:-/tmp}/sms-bridge-round-trip.XXXXXX")"
    keep_work=0
fi
pids=()
ok=0
cleanup() {
    local pid
    # ${pids[@]+...}: an empty array is "unbound" to set -u in bash 3.2 (macOS).
    for pid in ${pids[@]+"${pids[@]}"}; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in ${pids[@]+"${pids[@]}"}; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ "$ok" == 1 && "$keep_work" == 0 ]]; then
        rm -rf "$work"
    else
        printf 'round-trip: logs in %s\n' "$work" >&2
    fi
}
trap cleanup EXIT

# `wait_until DESCRIPTION LOG COMMAND...` runs COMMAND every half second until it succeeds;
# after TIMEOUT seconds it fails with DESCRIPTION and the LOG to read.
wait_until() {
    local what="$1" log="$2" deadline=$((SECONDS + TIMEOUT))
    shift 2
    until "$@"; do
        ((SECONDS < deadline)) || fail "$what: not within ${TIMEOUT}s (see $log)"
        sleep 0.5
    done
}

# The bridge reads only what this script sets: an empty config file (not a stray
# ./sms-bridge.toml) and SMS_BRIDGE_* variables.
: >"$work/sms-bridge.toml"
export SMS_BRIDGE_CONFIG="$work/sms-bridge.toml"
export PYTHONUNBUFFERED=1

export SMS_BRIDGE_TWILIO_ACCOUNT_SID="$ACCOUNT_SID"
export SMS_BRIDGE_TWILIO_AUTH_TOKEN="$AUTH_TOKEN"
export SMS_BRIDGE_INBOUND_SPOOL_DIR="$work/spool"
export SMS_BRIDGE_MAIL_TRANSPORT="maildir"
export SMS_BRIDGE_MAIL_MAILDIR="$work/mail"

bridge() { "$PYTHON" -m bridge.cli "$@"; }
# The last line of a log, without the CLI's "sms-bridge: error: " prefix.
last_line() {
    local line
    line="$(tail -n 1 "$1")"
    printf '%s' "${line#sms-bridge: error: }"
}

free_port() {
    "$PYTHON" -c 'import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])'
}

# -- 1. the schema --------------------------------------------------------------------------
if ! check="$(bridge db check 2>"$work/db-check.log")"; then
    fail "sms-bridge db check: $(last_line "$work/db-check.log")"
fi
say "1/7 schema: $check"

# -- 2. the Twilio sandbox ------------------------------------------------------------------
"$PYTHON" -m sandbox --port 0 --account-sid "$ACCOUNT_SID" --auth-token "$AUTH_TOKEN" \
    --number "$FROM_NUMBER" --queued-delay 0.1 --sending-delay 0.1 --delivery-delay 0.3 \
    >"$work/sandbox.out" 2>"$work/sandbox.log" &
pids+=("$!")
sandbox_pid="$!"
sandbox_ready() {
    kill -0 "$sandbox_pid" 2>/dev/null || fail "the sandbox exited (see $work/sandbox.log)"
    grep -q '^sandbox ready at http://' "$work/sandbox.out"
}
wait_until "the sandbox did not start" "$work/sandbox.log" sandbox_ready
twilio_url="$(sed -n 's/^sandbox ready at \(http:[^ ]*\).*/\1/p' "$work/sandbox.out")"
twilio_url="${twilio_url%%$'\n'*}"
export SMS_BRIDGE_TWILIO_BASE_URL="$twilio_url"
say "2/7 Twilio sandbox at $twilio_url"

# -- 3. the inbound service (status callbacks) ----------------------------------------------
port="$(free_port)"
export SMS_BRIDGE_INBOUND_PUBLIC_URL="http://127.0.0.1:$port"
# Not through the bridge function: in the background that would be a subshell, and $! its pid.
"$PYTHON" -m bridge.cli serve --port "$port" --workers 1 >"$work/serve.log" 2>&1 &
pids+=("$!")
serve_pid="$!"
serve_ready() {
    kill -0 "$serve_pid" 2>/dev/null || fail "sms-bridge serve exited (see $work/serve.log)"
    "$PYTHON" -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2).close()' \
        "$SMS_BRIDGE_INBOUND_PUBLIC_URL/health" 2>/dev/null
}
wait_until "sms-bridge serve did not answer /health" "$work/serve.log" serve_ready
say "3/7 inbound service (sms-bridge serve) at $SMS_BRIDGE_INBOUND_PUBLIC_URL"

# -- 4. a sender the sandbox accepts (no quiet hours: the run must send now) ----------------
bridge sender "$SENDER" --from-number "$FROM_NUMBER" --mps 10 --active --quiet-start '' \
    --quiet-end '' --description "deploy/oracle-ci/round_trip.sh" >"$work/sender.log" 2>&1 \
    || fail "sms-bridge sender $SENDER: $(last_line "$work/sender.log")"
say "4/7 sender $SENDER from $FROM_NUMBER"

# -- 5. queue one SMS -----------------------------------------------------------------------
key="round-trip-$(date -u +%Y%m%dT%H%M%S)-$$"
if [[ "$dsn" == oracle://* ]]; then
    how="from PL/SQL (sms_api.enqueue_number, committed)"
    enqueue() {
        "$PYTHON" - "$SENDER" "$TO_NUMBER" "$key" <<'PY'
import os
import sys

import oracledb

from bridge.store.oracle_dialect import parse_url

sender, to_number, key = sys.argv[1:]
environ = os.environ
target = parse_url(environ["SMS_BRIDGE_DATABASE_URL"], environ["SMS_BRIDGE_DATABASE_PASSWORD"])
if environ.get("SMS_BRIDGE_DATABASE_DRIVER_MODE") == "thick":
    oracledb.init_oracle_client(lib_dir=environ.get("SMS_BRIDGE_DATABASE_CLIENT_LIB_DIR") or None)
with oracledb.connect(user=target.user, password=target.password, dsn=target.dsn) as conn:
    with conn.cursor() as cursor:
        new_id = cursor.var(oracledb.DB_TYPE_NUMBER)
        # As an ERP program does it: the SMS exists once this transaction commits.
        cursor.execute(
            """
            begin
                :new_id := sms_api.enqueue_number(
                    p_sender_code     => :sender_code,
                    p_to_number       => :recipient,
                    p_body            => n'Round trip from PL/SQL: ' || to_char(
                                             sys_extract_utc(systimestamp),
                                             'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                    p_priority        => 1,
                    p_source_system   => 'ORACLE_CI',
                    p_correlation_key => :correlation_key);
                commit;
            end;
            """,
            new_id=new_id,
            sender_code=sender,
            recipient=to_number,
            correlation_key=key,
        )
print(int(new_id.getvalue()))
PY
    }
else
    how="with sms-bridge enqueue (SQLite: no PL/SQL)"
    enqueue() {
        bridge enqueue --sender "$SENDER" --to "$TO_NUMBER" --priority 1 \
            --body "Round trip through SQLite" --source-system ORACLE_CI \
            --correlation-key "$key" --json \
            | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["id"])'
    }
fi
message_id="$(enqueue 2>"$work/enqueue.log")" \
    || fail "enqueue $how: $(last_line "$work/enqueue.log")"
[[ "$message_id" =~ ^[0-9]+$ ]] || fail "enqueue $how printed no message id: $message_id"
say "5/7 message $message_id queued $how"

# The message's status, and whether a status callback applied DELIVERED to it.
status_of() {
    bridge status "$message_id" --json 2>>"$work/status.log" | "$PYTHON" -c '
import json, sys
m = json.load(sys.stdin)
by_callback = any(
    e["status"] == "DELIVERED" and e["source"] == "callback" and e["applied"]
    for e in m.get("events", [])
)
print(m["status"], "callback" if by_callback else "-")'
}

# -- 6. the worker sends it -----------------------------------------------------------------
bounded() {
    if command -v timeout >/dev/null; then timeout "$TIMEOUT" "$@"; else "$@"; fi
}
if ! bounded "$PYTHON" -m bridge.cli run --once >"$work/run.log" 2>&1; then
    fail "sms-bridge run --once: $(last_line "$work/run.log") (see $work/run.log)"
fi
line="$(status_of)" || fail "sms-bridge status $message_id failed (see $work/status.log)"
read -r status _ <<<"$line"
case "$status" in
    SUBMITTED | SENT | DELIVERED) ;;
    *) fail "after sms-bridge run --once message $message_id is $status (see $work/run.log)" ;;
esac
say "6/7 sms-bridge run --once sent it to the sandbox: $status"

# -- 7. the status callbacks, through sms-bridge serve --------------------------------------
delivered() {
    local line state via
    line="$(status_of)" || return 1
    read -r state via <<<"$line"
    case "$state" in
        DELIVERED)
            [[ "$via" == callback ]] || fail "message $message_id is DELIVERED, not by a callback"
            ;;
        UNDELIVERED | FAILED) fail "message $message_id ended $state (see $work/serve.log)" ;;
        *) return 1 ;;
    esac
}
wait_until "message $message_id was not DELIVERED through a status callback" \
    "$work/serve.log" delivered
say "7/7 status callback through sms-bridge serve: message $message_id DELIVERED"

ok=1
say "OK"
