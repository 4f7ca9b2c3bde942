#!/usr/bin/env bash
# The console over mosh, with the same keys as benches/ssh_link.sh: the UDP bytes each way
# (captured with tcpdump on lo, IP and UDP headers included) beside the terminal bytes.
#   sudo benches/mosh_link.sh CASE_DIR      (needs mosh, openssh-server, tcpdump)
set -euo pipefail
CASE=$(cd "${1:?usage: benches/mosh_link.sh CASE_DIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${TRIAGE_BIN:-$HERE/../target/debug/triage}
PTYMETER=${PTYMETER:-$HERE/../../shared/tools/ptymeter}
W=$(mktemp -d /tmp/triage-moshlink.XXXXXX)
chmod 755 "$W"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
UDP=$((61000 + RANDOM % 1000))
ssh-keygen -q -t ed25519 -N '' -f "$W/host"
ssh-keygen -q -t ed25519 -N '' -f "$W/client"
cp "$W/client.pub" "$W/authorized"
mkdir -p /run/sshd "$W/home"
# mosh starts mosh-server over SSH, so this sshd has no ForceCommand (see README: with mosh,
# the forced command must allow `mosh-server new ... -- triage open`).
cat > "$W/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $PORT
HostKey $W/host
PidFile $W/sshd.pid
AuthorizedKeysFile $W/authorized
StrictModes no
UsePAM no
PasswordAuthentication no
PermitRootLogin prohibit-password
AcceptEnv LANG LC_*
CONF
/usr/sbin/sshd -D -f "$W/sshd_config" & SSHD=$!
tcpdump -q -i lo -w "$W/udp.pcap" "udp port $UDP" 2> /dev/null & DUMP=$!
trap 'kill $SSHD $DUMP 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
sleep 1
python3 "$PTYMETER" --cols 120 --rows 40 --clean-env --env HOME="$W/home" --env TERM=xterm-256color \
  --env LANG=C.UTF-8 --env PATH=/usr/bin:/bin --bandwidth 64 --keys "$HERE/console.keys" \
  --quiet-ms 300 --first-byte-ms 400 --timeout 600 --json --allow-exit -- \
  mosh --no-init --port "$UDP" \
    --ssh="ssh -F /dev/null -i $W/client -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -p $PORT" \
    root@127.0.0.1 -- "$BIN" --case "$CASE" open > "$W/mosh.json"
sleep 2
kill $DUMP; wait $DUMP 2>/dev/null || true
python3 - "$W" "$UDP" <<'PY'
import json, subprocess, sys
w, port = sys.argv[1], sys.argv[2]
d = json.load(open(f"{w}/mosh.json"))
term = d["startup"]["bytes"] + d["total"]["bytes_total"]
lines = subprocess.run(["tcpdump", "-nn", "-q", "-r", f"{w}/udp.pcap"], capture_output=True, text=True).stdout.splitlines()
down = up = 0
for l in lines:
    # "... IP 127.0.0.1.61234 > 127.0.0.1.45678: UDP, length 93"
    try:
        src = l.split(" IP ")[1].split(" > ")[0]
        n = int(l.rsplit("length ", 1)[1]) + 28  # IPv4 + UDP headers
    except (IndexError, ValueError):
        continue
    if src.endswith("." + port):
        down += n
    else:
        up += n
keys = d["total"]["keys"]
print(f"mosh keys {keys}  terminal bytes {term:,}  udp down {down:,} ({down / term:.2f}x)  up {up:,}"
      f"  down/key {down / keys:,.0f}  64 kbit/s: {down * 8 / 64000:.1f} s down  packets {len(lines)}")
PY
