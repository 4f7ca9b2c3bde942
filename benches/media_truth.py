#!/usr/bin/env python3
"""matched/total per field: make_media.py's manifest vs `triage list --json` of a case that ingested it.

    python3 benches/media_truth.py MEDIA_DIR CASE_DIR path/to/triage
"""
import json, subprocess, sys
media, case, exe = sys.argv[1], sys.argv[2], sys.argv[3]
m = json.load(open(f"{media}/manifest.json"))
items = {}
for l in subprocess.run([exe, "--case", case, "list", "--json"], capture_output=True, text=True).stdout.splitlines():
    j = json.loads(l); items[j["sha256"]] = j
score = {}
def count(field, ok):
    a, b = score.get(field, (0, 0)); score[field] = (a + bool(ok), b + 1)
def first_line(s):
    return next((x.strip() for x in (s or "").splitlines() if x.strip()), "")
for f in m["files"]:
    it = items.get(f["sha256"]); md = (it or {}).get("metadata", {}); t = f["truth"]
    if f["kind"] == "video":
        v = md.get("video") or {}
        count("video duration (±0.5 s)", v.get("duration_s") is not None and abs(v["duration_s"] - t["duration_s"]) <= 0.5)
        count("video dimensions", (v.get("width"), v.get("height")) == (t["width"], t["height"]))
        count("video created_at", v.get("created_at") == t["created_at"])
        if "gps" in t:
            g = v.get("gps") or {}
            count("video gps (±1e-4)", g and abs(g["lat"] - t["gps"]["lat"]) < 1e-4 and abs(g["lon"] - t["gps"]["lon"]) < 1e-4)
    elif f["kind"] == "pdf":
        p = md.get("pdf") or {}
        count("pdf pages", p.get("pages") == t["pages"])
        count("pdf first line", first_line(p.get("text")) == t["text"].strip())
    elif f["kind"] == "email":
        e = md.get("email") or {}
        count("email first body line", first_line(e.get("body")) == t["body"].strip())
        count("email attachments", sorted(a["name"] for a in e.get("attachment_details", [])) == sorted(t["attachments"]))
for k, (a, b) in score.items():
    print(f"{k}: {a}/{b}")
