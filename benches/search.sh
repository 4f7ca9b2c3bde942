#!/usr/bin/env bash
# Search benchmark on a 1,000,000-item case.
#   benches/search.sh [CORPUS_DIR] [WORK_DIR]
# 1. Ingests the realistic corpus (default /tmp/bench/corpus-100k, made with
#    python3 /work/shared/corpus/make_realistic.py DIR --items 100000 --seed 7) into a new case,
#    one provider per top folder, measuring the search index's size there (built by ingest).
# 2. Grows the case to 1,000,000 items with `search_bench grow --to 1000000` (examples/search_bench.rs,
#    not part of the product binary): clones
#    of the ingested items' rows (fresh fake SHA-256s, same names and metadata, provenance
#    cloned, no audit entries, no objects: a case for measuring, it will not verify), plus
#    synthetic reviewer work (1 item in 20 tagged with a crime, 1 in 50 with a party, 1 in 10
#    triaged) so that crime:/party:/status: have something to find; the clones are indexed.
# 3. Times ten typical queries with `search_bench search` (the console's code path:
#    compile the filter, first page of 50 rows, then the count the status bar shows), median
#    and p95 over REPEAT runs each (default 20), and prints the index sizes.
# Set CASE=DIR to skip steps 1-2 and reuse a grown case.
set -euo pipefail
CORPUS=${1:-/tmp/bench/corpus-100k}
WORK=${2:-/tmp/triage-search-bench}
BIN=${TRIAGE_BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/release/triage}
REPEAT=${REPEAT:-20}
# The benchmark helpers: an example built beside the product, never inside it.
(cd "$(dirname "$0")/.." && cargo build -q --release --example search_bench)
BENCH=${SEARCH_BENCH_BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/release/examples/search_bench}
if [ -z "${CASE:-}" ]; then
  CASE=$WORK/case-$(date +%s)
  mkdir -p "$WORK"
  "$BIN" init "$CASE" > /dev/null
  # One ingest per provider folder (source-A-civil-defence, ...), so that source: is realistic.
  start=$(date +%s.%N)
  for dir in "$CORPUS"/*/; do
    "$BIN" --case "$CASE" ingest --source "$(basename "$dir")" "$dir" | tail -1
  done
  echo "ingest: $(echo "$(date +%s.%N) - $start" | bc) s"
  echo "--- after ingest (index built by ingest itself):"
  "$BENCH" search --case "$CASE" --repeat 1 "douma"
  /usr/bin/time -f "grow: %e s" "$BENCH" grow --case "$CASE" --to 1000000
fi
echo "--- case $CASE"
"$BENCH" search --case "$CASE" --repeat "$REPEAT" \
  'دوما' \
  '"incident documentation"' \
  'crime:cah-torture status:untriaged' \
  'captured:2013-08-01..2013-08-31 type:image' \
  'near:33.57,36.40,10' \
  'dup:yes' \
  'type:image -douma' \
  'aleppo OR حلب' \
  'source:source-a douma' \
  'حمص type:email'
