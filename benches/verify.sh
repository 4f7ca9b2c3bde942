#!/usr/bin/env bash
# Verify benchmark: `triage verify` of a case beside `openssl dgst -sha256` over the same
# objects (one process at a time, as openssl hashes), warm cache, in one run.
#   benches/verify.sh CASE_DIR
set -euo pipefail
CASE=$(cd "${1:?usage: benches/verify.sh CASE_DIR}" && pwd)
BIN=${TRIAGE_BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/release/triage}
files=$(find "$CASE/objects" -type f | wc -l)
bytes=$(find "$CASE/objects" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "objects: $files files, $bytes bytes"
find "$CASE/objects" -type f -print0 | xargs -0 cat > /dev/null   # warm the cache
t() { /usr/bin/time -f "%e %M" -o /tmp/verify-time.txt "$@"; read -r secs rss < /tmp/verify-time.txt; }
t sh -c "find '$CASE/objects' -type f -print0 | xargs -0 openssl dgst -sha256 > /dev/null"; ssl=$secs
awk -v s="$ssl" -v b="$bytes" 'BEGIN { printf "openssl dgst -sha256      %6.2f s  %7.1f MB/s\n", s, b/1e6/s }'
t "$BIN" --case "$CASE" verify > /tmp/verify-out.txt; v=$secs; vr=$rss
tail -1 /tmp/verify-out.txt
awk -v s="$v" -v b="$bytes" -v r="$vr" 'BEGIN { printf "triage verify             %6.2f s  %7.1f MB/s  peak RSS %.1f MB\n", s, b/1e6/s, r/1024 }'
awk -v a="$ssl" -v b="$v" 'BEGIN { printf "verify throughput / openssl = %.2fx (target >= 1.5x)\n", a/b }'
t "$BIN" --case "$CASE" verify --quick > /dev/null
echo "triage verify --quick     $secs s"
