#!/usr/bin/env bash
# What a reviewer's SSH link carries: the console driven by benches/console.keys (ptymeter,
# 120x40) through a real sshd on 127.0.0.1, once with plain `ssh -tt` and once with `ssh -C`.
# Counts the bytes on the wire (a counting ProxyCommand: SSH framing, encryption and
# compression included) beside the terminal bytes the console wrote.
#   sudo benches/ssh_link.sh CASE_DIR        (root: runs its own sshd; removes it after)
set -euo pipefail
CASE=$(cd "${1:?usage: benches/ssh_link.sh CASE_DIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${TRIAGE_BIN:-$HERE/../target/debug/triage}
PTYMETER=${PTYMETER:-$HERE/../../shared/tools/ptymeter}
W=$(mktemp -d /tmp/triage-sshlink.XXXXXX)
chmod 755 "$W"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ssh-keygen -q -t ed25519 -N '' -f "$W/host"
ssh-keygen -q -t ed25519 -N '' -f "$W/client"
cp "$W/client.pub" "$W/authorized"
mkdir -p /run/sshd "$W/home"
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
ForceCommand exec $BIN --case $CASE open
CONF
/usr/sbin/sshd -D -f "$W/sshd_config" & SSHD=$!
trap 'kill $SSHD 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
for mode in plain compressed; do
  opt=(); [ $mode = compressed ] && opt=(-C)
  python3 "$PTYMETER" --cols 120 --rows 40 --clean-env --env HOME="$W/home" --env TERM=xterm-256color \
    --bandwidth 64 --keys "$HERE/console.keys" --quiet-ms 300 --json --allow-exit -- \
    ssh -tt "${opt[@]}" -F /dev/null -i "$W/client" -o IdentitiesOnly=yes -o BatchMode=yes \
      -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
      -o "ProxyCommand python3 $HERE/count_relay.py 127.0.0.1 $PORT $W/wire-$mode.txt" \
      -p "$PORT" root@127.0.0.1 > "$W/$mode.json"
  # ptymeter ends the session by closing the pty; wait for the relay to write its counts.
  sleep 1
done
python3 - "$W" <<'PY'
import json, sys
w = sys.argv[1]
for mode in ("plain", "compressed"):
    d = json.load(open(f"{w}/{mode}.json"))
    wire = dict(l.split() for l in open(f"{w}/wire-{mode}.txt"))
    keys = d["total"]["keys"]
    term = d["startup"]["bytes"] + d["total"]["bytes_total"]
    down, up = int(wire["down"]), int(wire["up"])
    print(f"ssh {mode:<10} keys {keys}  terminal bytes {term:,}  wire down {down:,} ({down / term:.2f}x)"
          f"  up {up:,}  down/key {down / keys:,.0f}  64 kbit/s: {down * 8 / 64000:.1f} s down")
PY
