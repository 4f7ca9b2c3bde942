#!/usr/bin/env bash
# The console on a 1,000,000-item case under ../shared/tools/ptymeter at 120x40: first frame,
# then j, PgDn and x (each x triages an item, so every run starts from a fresh copy).
# Two binaries run alternately, so that both see the same load on a shared machine.
#   benches/console_1m.sh BEFORE_BIN AFTER_BIN [RUNS=3] [WORK=/tmp/triage-console-1m]
# The case: `examples/load.rs setup` (1M synthetic untriaged items, one transaction), then one
# item in ten marked triaged with sqlite3 (unaudited: a case for measuring, it will not verify).
# SPARSE=1 measures x where the next untriaged item is ~1000 rows past the window instead:
# one item in 1000 untriaged, in the "all" view.
set -euo pipefail
BEFORE=${1:?usage: benches/console_1m.sh BEFORE_BIN AFTER_BIN [RUNS] [WORK]}
AFTER=${2:?usage: benches/console_1m.sh BEFORE_BIN AFTER_BIN [RUNS] [WORK]}
RUNS=${3:-3}
WORK=${4:-/tmp/triage-console-1m}
HERE=$(cd "$(dirname "$0")" && pwd)
PTYMETER=${PTYMETER:-$HERE/../../shared/tools/ptymeter}
mkdir -p "$WORK"
PRISTINE=$WORK/pristine${SPARSE:+-sparse}
if [ ! -d "$PRISTINE" ]; then
  (cd "$HERE/.." && cargo build -q --release --example load)
  "$HERE/../target/release/examples/load" setup "$PRISTINE" 1000000 0
  if [ -n "${SPARSE:-}" ]; then
    sqlite3 "$PRISTINE/case.db" "UPDATE items SET status = CASE WHEN id % 1000 = 7
      THEN 'untriaged' ELSE 'triaged' END; PRAGMA wal_checkpoint(TRUNCATE);" > /dev/null
  else
    sqlite3 "$PRISTINE/case.db" "UPDATE items SET status = 'triaged' WHERE id % 10 = 0;
      PRAGMA wal_checkpoint(TRUNCATE);" > /dev/null
  fi
fi
KEYS=$WORK/keys
if [ -n "${SPARSE:-}" ]; then
  printf 'w\n2\nmark:x\nx*40\n' > "$KEYS"
else
  printf 'mark:j\nj*100\nmark:pgdn\nPgDn*20\nmark:x\nx*60\n' > "$KEYS"
fi
for r in $(seq 1 "$RUNS"); do
  for b in before after; do
    BIN=$BEFORE; [ "$b" = after ] && BIN=$AFTER
    OUT=$WORK/out-$b; mkdir -p "$OUT/home"
    rm -rf "$WORK/case"; cp -a "$PRISTINE" "$WORK/case"
    python3 "$PTYMETER" --cols 120 --rows 40 --clean-env --env HOME="$OUT/home" \
      --env TRIAGE_KEYMAP=/nonexistent --keys "$KEYS" --json \
      --screen-out "$OUT/run$r.screen.txt" -- "$BIN" --case "$WORK/case" open > "$OUT/run$r.json"
  done
done
rm -rf "$WORK/case"
python3 - "$WORK" "$RUNS" <<'PY'
import json, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
med = statistics.median
for b in ("before", "after"):
    reps = [json.load(open(f"{work}/out-{b}/run{r}.json")) for r in range(1, runs + 1)]
    ff = [d["startup"]["first_frame_ms"] for d in reps]
    end = [d["child"]["usage_at_end"] for d in reps]
    cpu = [u["cpu_user_s"] + u["cpu_sys_s"] for u in end]
    print(f"{b}: first frame {[round(x, 1) for x in ff]} ms (median {med(ff):.1f}); "
          f"CPU per session {[round(x, 2) for x in cpu]} s")
    for i, seg in enumerate(reps[0]["segments"]):
        lat = [d["segments"][i]["latency_ms"] for d in reps]
        bk = [d["segments"][i]["bytes_per_key"] for d in reps]
        print(f"  {seg.get('name'):<7} latency median {med([x['median'] for x in lat]):.2f} ms"
              f"  p95 {med([x['p95'] for x in lat]):.2f} ms (per run "
              f"{[round(x['p95'], 1) for x in lat]})  max {max(x['max'] for x in lat):.1f}"
              f"  bytes/key median {med([x['median'] for x in bk]):,.0f}")
PY
