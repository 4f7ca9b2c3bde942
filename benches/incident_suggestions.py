#!/usr/bin/env python3
"""Precision and recall of incident suggestions on a realistic corpus.

Usage: benches/incident_suggestions.py TRIAGE CASE MANIFEST [RADIUS_M]

CASE holds the corpus made by ../shared/corpus/make_realistic.py, ingested (`triage ingest`
per source folder; `triage dups` first for the similar-copy round). One incident is created per
(place, month) that the manifest's ground truth names: the place's centre from the manifest,
RADIUS_M around it (default 5000: the generator scatters positions up to 0.03 degrees from it),
the whole month as its window. An item truly belongs to an incident when its manifest entry
names that place (`place_context`, else `place`, else the GPS place) and its event falls in that
month (`taken_local`, `incident_date`, a video's `creation_time_utc`, a document's
`creation_date`, an e-mail's `date`).

Round 1: the suggestions by time and place, before anything is linked.
Round 2: every true suggestion of round 1 linked (what a reviewer confirming them does), then
the suggestions again: now also similar copies of linked items. A copy (`near_duplicate_of`,
`duplicate_of`) without a place or time of its own takes its original's.
Nothing here is committed output: it prints the figures.
"""
import calendar
import collections
import json
import subprocess
import sys


def run(triage, case, *args):
    out = subprocess.run([triage, "--case", case, *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{args}: {out.stderr}")
    return out.stdout


def event_month(kind, t):
    for key in ("taken_local", "incident_date", "creation_time_utc", "creation_date", "date"):
        v = t.get(key)
        if isinstance(v, str) and len(v) >= 7:
            return v[:7]
    return None


def place_of(t):
    g = t.get("gps") or {}
    return t.get("place_context") or t.get("place") or g.get("place")


def main():
    triage, case, manifest = sys.argv[1:4]
    radius = float(sys.argv[4]) if len(sys.argv) > 4 else 5000.0
    m = json.load(open(manifest))
    places = m["places"]
    by_sha = {}
    for line in run(triage, case, "list", "--json").splitlines():
        v = json.loads(line)
        by_sha[v["sha256"]] = v["ref"]
    truth = collections.defaultdict(set)  # (place, month) -> refs
    by_path = {f["path"]: f for f in m["files"]}
    for f in m["files"]:
        t = f.get("truth") or {}
        ref = by_sha.get(f["sha256"])
        p, month = place_of(t), event_month(f["kind"], t)
        # A copy (re-encoded, resized, cropped) documents what its original documents: the
        # generator records the place and time on the original only.
        original = by_path.get(f.get("near_duplicate_of") or f.get("duplicate_of") or "")
        if original and not (p and month):
            ot = original.get("truth") or {}
            p, month = p or place_of(ot), month or event_month(original["kind"], ot)
        if ref and p in places and month:
            truth[(p, month)].add(ref)
    incidents = {}
    existing = {json.loads(l)["title"]: json.loads(l)["ref"]
                for l in run(triage, case, "incident", "list", "--json").splitlines()}
    for (p, month) in sorted(truth):
        title = f"{p} {month}"
        if title in existing:
            incidents[(p, month)] = existing[title]
            continue
        y, mo = map(int, month.split("-"))
        last = calendar.monthrange(y, mo)[1]
        c = places[p]
        ref = run(triage, case, "incident", "add", title, "--place", p,
                  "--date", f"{month}-01..{month}-{last:02d}",
                  "--at", f"{c['lat']},{c['lon']},{radius}").strip()
        incidents[(p, month)] = ref

    def measure(label):
        suggested = collections.defaultdict(set)
        why = collections.Counter()
        for key, ref in incidents.items():
            v = json.loads(run(triage, case, "incident", "show", ref, "--json"))
            for s in v["suggested"]:
                suggested[key].add(s["ref"])
                why[s["why"]] += 1
            suggested[key] |= set(v["linked"])
        n_sugg = sum(len(s) for s in suggested.values())
        n_true = sum(len(s) for s in truth.values())
        hit = sum(len(suggested[k] & truth[k]) for k in truth)
        print(f"{label}: {len(incidents)} incidents, {n_true} true links, "
              f"{n_sugg} suggested or linked ({dict(why)}), {hit} true")
        print(f"  precision {hit / max(n_sugg, 1):.3f}  recall {hit / max(n_true, 1):.3f}")
        return suggested

    s1 = measure("round 1 (time and place)")
    linked = 0
    for key, refs in s1.items():
        for ref in sorted(refs & truth[key]):
            run(triage, case, "link", ref, incidents[key])
            linked += 1
    print(f"linked the {linked} true suggestions of round 1")
    measure("round 2 (linked + time and place + similar copies)")


main()
