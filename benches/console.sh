#!/usr/bin/env bash
# Console bytes and latency per key with ../shared/tools/ptymeter at 120x40, as
# ../shared/tools/REFERENCE_MEASUREMENTS.md measured less, tig and neomutt.
#   benches/console.sh CASE_DIR [RUNS]     (pip install pyte first, for the final screen)
set -euo pipefail
CASE=$(cd "${1:?usage: benches/console.sh CASE_DIR [RUNS]}" && pwd)
RUNS=${2:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${TRIAGE_BIN:-$HERE/../target/release/triage}
PTYMETER=${PTYMETER:-$HERE/../../shared/tools/ptymeter}
OUT=${OUT:-/tmp/triage-console-bench}
mkdir -p "$OUT/home"
for r in $(seq 1 "$RUNS"); do
  python3 "$PTYMETER" --cols 120 --rows 40 --clean-env --env HOME="$OUT/home" \
    --env TRIAGE_KEYMAP=/nonexistent --bandwidth 64 --keys "$HERE/console.keys" --json \
    --screen-out "$OUT/run$r.screen.txt" -- "$BIN" --case "$CASE" open > "$OUT/run$r.json"
done
python3 - "$OUT" "$RUNS" <<'PY'
import json, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
reports = [json.load(open(f"{out}/run{r}.json")) for r in range(1, runs + 1)]
med = lambda xs: statistics.median(xs)
print(f"runs: {runs} (median of runs)")
print(f"first frame: {med([d['startup']['first_frame_ms'] for d in reports]):.1f} ms, "
      f"{med([d['startup']['bytes'] for d in reports]):,.0f} bytes")
for i, seg in enumerate(reports[0]["segments"]):
    name = seg.get("name")
    b = [d["segments"][i]["bytes_per_key"] for d in reports]
    l = [d["segments"][i]["latency_ms"] for d in reports]
    print(f"{name:<8} bytes/key median {med([x['median'] for x in b]):,.0f}  mean {med([x['mean'] for x in b]):,.0f}"
          f"  p95 {med([x['p95'] for x in b]):,.0f}   latency median {med([x['median'] for x in l]):.2f} ms"
          f"  p95 {med([x['p95'] for x in l]):.2f} ms")
rss = [d["child"]["usage_at_end"]["peak_rss_kib"] for d in reports]
print(f"peak RSS: {max(rss) / 1024:.1f} MB")
PY
