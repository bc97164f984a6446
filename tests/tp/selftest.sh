#!/bin/sh
# SPDX-License-Identifier: MIT
# Self-test of the Perfetto trace-processor reader (tests/tp/tp_query.mjs) on a
# hand-made one-slice trace. Usage: tests/tp/selftest.sh [TP_DIR]  (default build/tp)
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tpdir=${1:-$root/build/tp}
fix=$here/fixtures
trace=$fix/one_slice.trace
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

"$here/install.sh" "$tpdir" || { echo "selftest: 0 passed, 1 failed"; exit 1; }
q() { node "$here/tp_query.mjs" --tp-dir "$tpdir" "$trace" "$@"; }

# 1. The slice is there, with its duration.
out=$(q 'select name, dur from slice')
if [ "$out" = '{"query":"select name, dur from slice","columns":["name","dur"],"rows":[["weft-selftest-slice",2500]]}' ]; then
    ok "slice weft-selftest-slice dur 2500"
else
    bad "slice query gave: $out"
fi

# 2. Several queries per run, stats table readable, track named.
out=$(q 'select name, idx, severity, source, value from stats where value > 0' \
        "select t.name from slice s join track t on s.track_id = t.id")
rc=$?
n=$(printf '%s\n' "$out" | grep -c '^{"query"')
if [ $rc -eq 0 ] && [ "$n" -eq 2 ] &&
   printf '%s\n' "$out" | grep -q '"columns":\["name","idx","severity","source","value"\]' &&
   printf '%s\n' "$out" | grep -q '"rows":\[\["weft-selftest-track"\]\]'; then
    ok "stats + track name in one run"
else
    bad "stats/track queries (rc $rc): $out"
fi

# 3. A SQL error is an error (exit 5), with a message.
err=$(q 'select * from no_such_table' 2>&1 >/dev/null)
rc=$?
if [ $rc -eq 5 ] && printf '%s' "$err" | grep -q 'no such table'; then
    ok "SQL error exits 5"
else
    bad "SQL error gave rc $rc: $err"
fi

# 4. The committed binary fixture still matches its text form.
if command -v protoc >/dev/null 2>&1; then
    tmp=$(mktemp)
    if protoc --proto_path="$fix" --encode=perfetto.protos.Trace mini_trace.proto \
            <"$fix/one_slice.txtpb" >"$tmp" && cmp -s "$tmp" "$trace"; then
        ok "one_slice.trace matches one_slice.txtpb"
    else
        bad "one_slice.trace differs from protoc --encode of one_slice.txtpb"
    fi
    rm -f "$tmp"
else
    echo "skip protoc not installed: fixture not re-encoded"
fi

echo "selftest: $pass passed, $fail failed"
[ $fail -eq 0 ]
