#!/usr/bin/env bash
# Full-size phone photos (issue 12): ingest beside the durable reference, peak RSS of ingesting
# the 48-MP ones, and previews in the console (`i`, then 30 × `j`) under ptymeter at 120×40.
#   python3 ../shared/corpus/make_media.py /tmp/media --photos 60
#   benches/photos.sh /tmp/media [WORK_DIR]
set -euo pipefail
MEDIA=$(cd "${1:?usage: benches/photos.sh MEDIA_DIR [WORK_DIR]}" && pwd)
WORK=${2:-/tmp/triage-photos-bench}/run-$(date +%s)
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${TRIAGE_BIN:-$HERE/../target/release/triage}
PTYMETER=${PTYMETER:-$HERE/../../shared/tools/ptymeter}
mkdir -p "$WORK/big" "$WORK/home"

echo "== ingest of the phone photos (JPEG), beside cp -r + sync + openssl"
SKIP_EXIFTOOL=1 TRIAGE_BIN="$BIN" "$HERE/ingest.sh" "$MEDIA/photos" "$WORK" | tee "$WORK/ingest.txt"
CASE=$(sed -n 's/^case kept in //p' "$WORK/ingest.txt" | cut -d' ' -f1)

echo "== peak RSS: ingest of the photos of 40 megapixels or more"
python3 - "$MEDIA" "$WORK/big" <<'PY'
import json, os, sys
media, out = sys.argv[1], sys.argv[2]
m = json.load(open(os.path.join(media, "manifest.json")))
n = 0
for f in m["files"]:
    t = f.get("truth") or {}
    if f["path"].startswith("photos/") and t.get("width", 0) * t.get("height", 0) >= 40e6:
        os.link(os.path.join(media, f["path"]), os.path.join(out, os.path.basename(f["path"])))
        n += 1
print(f"{n} photos of 40 MP or more")
PY
"$BIN" init "$WORK/big-case" > /dev/null
# %M: the largest resident set of triage or any one of its worker processes.
/usr/bin/time -f "%e s, peak RSS %M KiB (largest single process)" \
  "$BIN" --case "$WORK/big-case" ingest --source bench --json "$WORK/big" > /dev/null

echo "== console: i, then 30 × j with the preview open (120×40)"
python3 "$PTYMETER" --cols 120 --rows 40 --clean-env --env HOME="$WORK/home" \
  --env TRIAGE_KEYMAP=/nonexistent --bandwidth 64 --keys "$HERE/preview.keys" --json \
  -- "$BIN" --case "$CASE" open > "$WORK/preview.json"
python3 - "$WORK/preview.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for seg in d["segments"]:
    b, l = seg["bytes_per_key"], seg["latency_ms"]
    print(f"{seg.get('name')!s:<20} keys {seg.get('keys', '?')}  latency median {l['median']:.1f} ms"
          f"  p95 {l['p95']:.1f} ms   bytes/key median {b['median']:,.0f}  p95 {b['p95']:,.0f}")
PY
echo "work kept in $WORK (remove when done)"
