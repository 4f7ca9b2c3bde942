#!/usr/bin/env bash
# What running parsers in worker processes costs: `triage ingest` of the same corpus by a build
# without isolation (BASE) and one with it (NEW), alternating, best of N each, warm cache.
#   benches/isolation.sh BASE_BIN NEW_BIN CORPUS_DIR [RUNS] [WORK_DIR]
# e.g.
#   pip install -r /work/shared/corpus/requirements.txt
#   python3 /work/shared/corpus/make_realistic.py /tmp/bench/corpus-20k --items 20000
#   mkdir -p /tmp/iso-base && git archive 795e11f | tar -x -C /tmp/iso-base
#   (cd /tmp/iso-base && cargo build --release) && cargo build --release
#   benches/isolation.sh /tmp/iso-base/target/release/triage target/release/triage /tmp/bench/corpus-20k 3
# INGEST_ARGS=--no-fingerprints leaves image decoding out, so that what remains is the cost of
# the worker round trips alone (with fingerprints, scaled JPEG decoding also changes the time).
set -euo pipefail
BASE=${1:?usage: benches/isolation.sh BASE_BIN NEW_BIN CORPUS_DIR [RUNS] [WORK_DIR]}
NEW=${2:?NEW_BIN}
CORPUS=$(cd "${3:?CORPUS_DIR}" && pwd)
RUNS=${4:-3}
WORK=${5:-/tmp/triage-bench}/isolation-$(date +%s)
mkdir -p "$WORK"
files=$(find "$CORPUS" -type f | wc -l)
echo "corpus: $CORPUS  files=$files  runs=$RUNS  ingest args: ${INGEST_ARGS:-none}"
echo "warming the page cache"; find "$CORPUS" -type f -print0 | xargs -0 cat > /dev/null

# One ingest into a new case: prints "seconds peak_rss_kb" (the peak of the ingest and, through
# getrusage's children figure, of any worker it waited for).
one() {
  local bin=$1 case=$2
  "$bin" init "$case" > /dev/null
  sync
  python3 - "$bin" "$case" "$CORPUS" ${INGEST_ARGS:-} <<'PY'
import resource, subprocess, sys, time
bin, case, corpus = sys.argv[1:4]
t = time.monotonic()
r = subprocess.run([bin, "--case", case, "ingest", "--source", "bench", "--json", *sys.argv[4:], corpus],
                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
secs = time.monotonic() - t
if r.returncode not in (0, 1):
    sys.exit(f"ingest exited {r.returncode}")
print(f"{secs:.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
PY
  rm -rf "$case"
}

best_base=; best_new=
for run in $(seq 1 "$RUNS"); do
  read -r s_base rss_base < <(one "$BASE" "$WORK/base-$run")
  read -r s_new rss_new < <(one "$NEW" "$WORK/new-$run")
  printf "run %d: base %7.2f s (peak %5.0f MB)   isolated %7.2f s (peak %5.0f MB)\n" \
    "$run" "$s_base" "$((rss_base / 1024))" "$s_new" "$((rss_new / 1024))"
  best_base=$(awk -v a="${best_base:-1e18}" -v b="$s_base" 'BEGIN{print (b<a)?b:a}')
  best_new=$(awk -v a="${best_new:-1e18}" -v b="$s_new" 'BEGIN{print (b<a)?b:a}')
done
awk -v b="$best_base" -v n="$best_new" -v f="$files" 'BEGIN {
  printf "best of runs: base %.2f s (%.0f files/s), isolated %.2f s (%.0f files/s): %+.1f%% (target <= +10%%)\n",
         b, f/b, n, f/n, (n/b - 1) * 100 }'
rmdir "$WORK" 2>/dev/null || true
