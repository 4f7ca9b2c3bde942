#!/usr/bin/env bash
# Ingest benchmark: triage ingest beside `cp -r` + `openssl dgst -sha256` and `exiftool -json -r`
# over the same folder, warm cache, in one run.
#   benches/ingest.sh CORPUS_DIR [WORK_DIR]
# CORPUS_DIR: e.g. python3 ../shared/corpus/make_realistic.py /tmp/corpus-100k --items 100000 --seed 7
set -euo pipefail
CORPUS=$(cd "${1:?usage: benches/ingest.sh CORPUS_DIR [WORK_DIR]}" && pwd)
# A new folder per run: deleting a previous run's 100,000 files just before would slow the
# next file creations (ext4 scans recently freed inodes) and skew whichever runs next.
WORK=${2:-/tmp/triage-bench}/run-$(date +%s)
BIN=${TRIAGE_BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/release/triage}
mkdir -p "$WORK"
files=$(find "$CORPUS" -type f | wc -l)
bytes=$(find "$CORPUS" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "corpus: $CORPUS  files=$files  bytes=$bytes"
echo "warming the page cache"; find "$CORPUS" -type f -print0 | xargs -0 cat > /dev/null
t() { /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@"; read -r secs rss < "$WORK/time.txt"; }
report() { awk -v n="$1" -v s="$2" -v r="$3" -v f="$files" -v b="$bytes" \
  'BEGIN { printf "%-28s %8.2f s  %8.0f files/s  %7.1f MB/s  peak RSS %6.1f MB\n", n, s, f/s, b/1e6/s, r/1024 }'; }

sync
"$BIN" init "$WORK/case" > /dev/null
t "$BIN" --case "$WORK/case" ingest --source bench --json "$CORPUS" > "$WORK/ingest.json"
ingest_s=$secs; report "triage ingest (durable)" "$secs" "$rss"
echo "items in case: $("$BIN" --case "$WORK/case" list | wc -l)"

t cp -r "$CORPUS" "$WORK/cp"; cp_s=$secs; report "cp -r" "$secs" "$rss"
t sh -c "find '$WORK/cp' -type f -print0 | xargs -0 openssl dgst -sha256 > /dev/null"; ssl_s=$secs
report "openssl dgst -sha256" "$secs" "$rss"
base=$(awk -v a="$cp_s" -v b="$ssl_s" 'BEGIN{print a+b}')
report "cp -r + openssl" "$base" 0
awk -v i="$ingest_s" -v b="$base" 'BEGIN { printf "ingest / (cp + openssl) = %.2fx (target <= 2x)\n", i/b }'

if [ "${SKIP_EXIFTOOL:-0}" != 1 ] && command -v exiftool > /dev/null; then
  t sh -c "exiftool -json -r '$CORPUS' > /dev/null 2>&1 || true"; exif_s=$secs
  report "exiftool -json -r" "$secs" "$rss"
  awk -v i="$ingest_s" -v e="$exif_s" 'BEGIN { printf "exiftool / ingest = %.1fx (target >= 10x)\n", e/i }'
fi
rm -rf "$WORK/cp"
echo "case kept in $WORK/case (remove old runs when done)"
