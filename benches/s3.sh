#!/usr/bin/env bash
# Originals in Garage on loopback vs the local objects/ folder, in one run: ingest of the same
# corpus into each (warm page cache), then `verify` and `verify --quick` of each.
#   benches/s3.sh CORPUS_DIR [WORK_DIR]
# CORPUS_DIR: e.g. python3 ../shared/corpus/make_realistic.py /tmp/bench/corpus-20k --items 20000
# Needs `garage` (2.x) on PATH or GARAGE_BIN; starts its own single node (replication 1, LMDB)
# in WORK_DIR with fresh ports, and stops it at the end.
set -euo pipefail
CORPUS=$(cd "${1:?usage: benches/s3.sh CORPUS_DIR [WORK_DIR]}" && pwd)
WORK=${2:-/tmp/triage-bench-s3}/run-$(date +%s)
BIN=${TRIAGE_BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/release/triage}
GARAGE=${GARAGE_BIN:-$(command -v garage || echo "$HOME/.cargo/bin/garage")}
mkdir -p "$WORK/garage"
files=$(find "$CORPUS" -type f | wc -l)
bytes=$(find "$CORPUS" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "corpus: $CORPUS  files=$files  bytes=$bytes"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
S3=$(port); RPC=$(port); ADM=$(port)
cat > "$WORK/garage/garage.toml" <<CONF
metadata_dir = "$WORK/garage/meta"
data_dir = "$WORK/garage/data"
db_engine = "lmdb"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$RPC"
rpc_public_addr = "127.0.0.1:$RPC"
rpc_secret = "$(openssl rand -hex 32)"
[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$S3"
root_domain = ".s3.garage.localhost"
[admin]
api_bind_addr = "127.0.0.1:$ADM"
CONF
G() { "$GARAGE" -c "$WORK/garage/garage.toml" "$@"; }
RUST_LOG=warn G server > "$WORK/garage/server.log" 2>&1 &
GPID=$!
trap 'kill $GPID 2> /dev/null || true' EXIT
until G status > /dev/null 2>&1; do sleep 0.2; done
G layout assign -z dc1 -c 100G "$(G node id -q | cut -d@ -f1)" > /dev/null
G layout apply --version 1 > /dev/null
export TRIAGE_S3_ACCESS_KEY_ID=GK000000000000000000bench0
export TRIAGE_S3_SECRET_ACCESS_KEY=$(openssl rand -hex 32)
G key import --yes -n bench "$TRIAGE_S3_ACCESS_KEY_ID" "$TRIAGE_S3_SECRET_ACCESS_KEY" > /dev/null
G bucket create bench > /dev/null
G bucket allow --read --write --owner bench --key bench > /dev/null
sleep 1

echo "warming the page cache"; find "$CORPUS" -type f -print0 | xargs -0 cat > /dev/null
t() { /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@"; read -r secs rss < "$WORK/time.txt"; }
report() { awk -v n="$1" -v s="$2" -v r="$3" -v f="$files" -v b="$bytes" \
  'BEGIN { printf "%-34s %8.2f s  %8.0f files/s  %7.1f MB/s  peak RSS %6.1f MB\n", n, s, f/s, b/1e6/s, r/1024 }'; }

"$BIN" init "$WORK/local" > /dev/null
"$BIN" init "$WORK/s3" --objects s3://bench/case --endpoint "http://127.0.0.1:$S3" > /dev/null
sync
t "$BIN" --case "$WORK/local" ingest --source bench --json "$CORPUS" > "$WORK/local.json"
report "ingest, local objects/" "$secs" "$rss"
sync
t "$BIN" --case "$WORK/s3" ingest --source bench --json "$CORPUS" > "$WORK/s3.json"
report "ingest, Garage on loopback" "$secs" "$rss"
for c in local s3; do
  python3 -c "import json,sys; d=json.load(open('$WORK/$c.json')); print('  $c: new', d['new'], 'dups', d['duplicates'], 'failed', d['failed'])"
done
obytes=$(find "$WORK/local/objects" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
for c in local s3; do
  t "$BIN" --case "$WORK/$c" verify > "$WORK/verify-$c.txt" || { cat "$WORK/verify-$c.txt"; exit 1; }
  awk -v n="verify, $c" -v s="$secs" -v b="$obytes" -v r="$rss" \
    'BEGIN { printf "%-34s %8.2f s  %7.1f MB/s  peak RSS %6.1f MB\n", n, s, b/1e6/s, r/1024 }'
  t "$BIN" --case "$WORK/$c" verify --quick > /dev/null
  printf "%-34s %8.2f s\n" "verify --quick, $c" "$secs"
done
echo "work kept in $WORK (remove when done)"
