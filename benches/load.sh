#!/usr/bin/env bash
# Load test: N reviewer processes (default 8) tagging the same case for S seconds (default
# 60) through the store: claim the next untriaged item, tag it, mark it triaged; each commit
# timed. Then the invariants: no error, one audit row per recorded effect (no lost change),
# no item changed by two reviewers, an unbroken chain.
#   benches/load.sh [ITEMS=100000] [REVIEWERS=8] [SECONDS=60] [WORK_DIR]
# ITEMS=0 uses an existing case: set CASE=/path/to/case (e.g. one ingested from a corpus).
set -euo pipefail
ITEMS=${1:-100000}; N=${2:-8}; SECS=${3:-60}
WORK=${4:-/tmp/triage-load}/run-$(date +%s)
cd "$(dirname "$0")/.."
# Dependencies (SQLite included) are optimised even in the dev profile (Cargo.toml).
cargo build -q --example load ${PROFILE:+--profile "$PROFILE"}
BIN=target/${PROFILE:-debug}/examples/load
mkdir -p "$WORK"
CASE_DIR=${CASE:-$WORK/case}
t0=$(date +%s.%N)
"$BIN" setup "$CASE_DIR" "$ITEMS" "$N"
echo "case: $CASE_DIR ($ITEMS synthetic items; setup $(echo "$(date +%s.%N) - $t0" | bc) s)"
pids=()
for i in $(seq 1 "$N"); do
  "$BIN" review "$CASE_DIR" "r$i" "$SECS" "$WORK/lat-r$i.txt" > "$WORK/out-r$i.json" 2> "$WORK/err-r$i.txt" &
  pids+=($!)
done
fail=0
for p in "${pids[@]}"; do wait "$p" || fail=1; done
cat "$WORK"/out-r*.json
cat "$WORK"/err-r*.txt | head -5
python3 - "$WORK" "$SECS" <<'PY'
import glob, json, sys
work, secs = sys.argv[1], float(sys.argv[2])
outs = [json.load(open(f)) for f in glob.glob(f"{work}/out-r*.json")]
lat = {"commit": [], "claim": []}
for f in glob.glob(f"{work}/lat-r*.txt"):
    for line in open(f):
        k, v = line.split()
        lat[k].append(int(v) / 1000)
def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(p / 100 * len(v)))] if v else float("nan")
items = sum(o["items"] for o in outs); changes = sum(o["changes"] for o in outs)
errors = sum(o["errors"] for o in outs)
print(f"reviewers {len(outs)}  seconds {secs:.0f}  items triaged {items}  changes {changes}  errors {errors}")
print(f"throughput {items / secs:.1f} items/s, {changes / secs:.1f} commits/s")
for k in ("commit", "claim"):
    print(f"{k} latency ms: median {pct(lat[k], 50):.1f}  p95 {pct(lat[k], 95):.1f}  p99 {pct(lat[k], 99):.1f}  max {max(lat[k] or [0]):.1f}")
PY
"$BIN" check "$CASE_DIR" || fail=1
echo "work folder: $WORK (remove when done)"
exit $fail
