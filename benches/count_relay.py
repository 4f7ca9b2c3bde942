#!/usr/bin/env python3
"""ssh ProxyCommand that relays stdin/stdout to HOST:PORT and counts the bytes each way:
what actually crosses the link (SSH framing, encryption, compression included).
    ProxyCommand python3 count_relay.py HOST PORT OUTFILE
On exit OUTFILE holds: up DOWN_BYTES (client→server), down BYTES (server→client)."""
import os, select, socket, sys

host, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port))
up = down = 0
fds = [0, s.fileno()]
# Counts are rewritten after every chunk: the session may end with the relay killed.
report = open(out, "w")


def save():
    report.seek(0)
    report.write(f"up {up}\ndown {down}\n")
    report.truncate()
    report.flush()


try:
    while fds:
        r, _, _ = select.select(fds, [], [])
        if 0 in r:
            b = os.read(0, 65536)
            if not b:
                fds.remove(0)
                s.shutdown(socket.SHUT_WR)
            else:
                s.sendall(b)
                up += len(b)
                save()
        if s.fileno() in r:
            b = s.recv(65536)
            if not b:
                break
            os.write(1, b)
            down += len(b)
            save()
finally:
    save()
