#!/usr/bin/env python3
"""Cross-check triage's extracted metadata against make_realistic.py's ground truth.

    python3 ../shared/corpus/make_realistic.py /tmp/corpus-2k --items 2000
    cargo build --release
    python3 benches/crosscheck.py /tmp/corpus-2k [--bin target/release/triage]

Ingests the corpus into a fresh case (one source per top-level folder), then compares
`triage list --json` with manifest.json's `truth` for every file. Prints one line per
disagreement and a summary; exits 1 if any value disagrees.
"""
import argparse, hashlib, json, os, subprocess, sys, tempfile
from collections import Counter, defaultdict


def run(args, **kw):
    return subprocess.run(args, check=False, capture_output=True, text=True, **kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "triage"))
    ap.add_argument("--case")
    a = ap.parse_args()
    manifest = json.load(open(os.path.join(a.corpus, "manifest.json"), encoding="utf-8"))
    case = a.case or os.path.join(tempfile.mkdtemp(prefix="triage-xcheck-"), "case")
    if not os.path.exists(os.path.join(case, "case.db")):
        r = run([a.bin, "init", case]); assert r.returncode == 0, r.stderr
        for d in sorted(os.listdir(a.corpus)):
            p = os.path.join(a.corpus, d)
            if os.path.isdir(p):
                r = run([a.bin, "--case", case, "ingest", "--source", d, "--json", p])
                s = json.loads(r.stdout)
                if s["skipped"] or s["failed"]:
                    print("INGEST PROBLEMS", d, s["problems"])
    items = {}
    r = run([a.bin, "--case", case, "list", "--json"])
    for line in r.stdout.splitlines():
        it = json.loads(line)
        items[it["sha256"]] = it

    problems = []
    checked = Counter()

    def eq(path, field, ours, truth, tol=None):
        checked[field] += 1
        if tol is not None and ours is not None and truth is not None:
            if abs(float(ours) - float(truth)) <= tol:
                return
        elif ours == truth:
            return
        problems.append(f"{path}: {field}: ours {ours!r}, truth {truth!r}")

    files = manifest["files"]
    distinct = {f["sha256"] for f in files}
    eq("corpus", "item count (distinct hashes of listed files)", len(items), len(distinct))
    by_sha_paths = defaultdict(set)
    for f in files:
        by_sha_paths[f["sha256"]].add(f["path"])

    for f in files:
        it = items.get(f["sha256"])
        path = f["path"]
        if it is None:
            problems.append(f"{path}: not in the case"); continue
        t = f["truth"]
        m = it["metadata"]
        paths = {s["path"] for s in it["sources"]}
        eq(path, "provenance recorded", os.path.join(os.path.abspath(a.corpus), path) in paths, True)
        kind = f["kind"]
        eq(path, "mime", it["mime"], f["mime"].split(";")[0])
        if kind == "photo" or kind == "screenshot":
            img = m.get("image") or {}
            eq(path, "image.width", img.get("width"), t.get("width"))
            eq(path, "image.height", img.get("height"), t.get("height"))
        if kind == "photo":
            ex = t.get("exif")
            ours = m.get("exif")
            if ex is None:
                eq(path, "exif absent", ours is None or not any(ours.get(k) for k in ("make", "model")), True)
            else:
                ours = ours or {}
                eq(path, "exif.make", ours.get("make"), ex.get("Make"))
                eq(path, "exif.model", ours.get("model"), ex.get("Model"))
                if "Software" in ex:
                    eq(path, "exif.software", ours.get("software"), ex.get("Software"))
                dto = ex.get("DateTimeOriginal")
                if dto:
                    want = dto[:10].replace(":", "-") + "T" + dto[11:]
                    if "OffsetTimeOriginal" in ex:
                        want += ex["OffsetTimeOriginal"]
                    eq(path, "exif.captured_at", ours.get("captured_at"), want)
                eq(path, "exif.orientation", ours.get("orientation"), ex.get("Orientation"))
            g = t.get("gps")
            og = (m.get("exif") or {}).get("gps")
            if g is None:
                eq(path, "gps absent", og, None)
            else:
                og = og or {}
                eq(path, "gps.lat", og.get("lat"), g["lat"], tol=1e-6)
                eq(path, "gps.lon", og.get("lon"), g["lon"], tol=1e-6)
                eq(path, "gps.alt", og.get("alt"), g["alt_m"], tol=0.005)
        elif kind == "document":
            p = m.get("pdf") or {}
            eq(path, "pdf.pages", p.get("pages"), t.get("pages"))
            eq(path, "pdf.title", p.get("title"), t.get("title"))
            eq(path, "pdf.author", p.get("author"), t.get("author"))
            eq(path, "pdf.creator", p.get("creator"), t.get("creator"))
            eq(path, "pdf.producer", p.get("producer"), t.get("producer"))
            eq(path, "pdf.created", p.get("created"), t.get("creation_date"))
            eq(path, "pdf.modified", p.get("modified"), t.get("mod_date"))
        elif kind == "email":
            e = m.get("email") or {}
            eq(path, "email.subject", e.get("subject"), t.get("subject"))
            eq(path, "email.message_id", "<%s>" % e.get("message_id"), t.get("message_id"))
            frm = e.get("from") or ""
            eq(path, "email.from (address)", frm.split("<")[-1].rstrip(">"), t.get("from"))
            eq(path, "email.to (address)", [x.split("<")[-1].rstrip(">") for x in e.get("to") or []], [t.get("to")])
            eq(path, "email.date", e.get("date"), t.get("date"))
        elif kind == "statement":
            x = m.get("text") or {}
            eq(path, "text.encoding", x.get("encoding"), "UTF-8")
            eq(path, "text.bom", x.get("bom"), t.get("encoding") == "utf-8-sig")
        elif kind == "video":
            v = m.get("video") or {}
            eq(path, "video.duration_s", v.get("duration_s"), t.get("duration_s"), tol=0.001)
            eq(path, "video.created_at", v.get("created_at"), t.get("creation_time_utc"))
            eq(path, "video.width", v.get("width"), t.get("width"))
            eq(path, "video.height", v.get("height"), t.get("height"))
        # Exact duplicates: one item, a provenance record per received file.
        eq(path, "provenance count", len(it["sources"]), len(by_sha_paths[f["sha256"]]))

    for p in problems[:200]:
        print("DISAGREE", p)
    total = sum(checked.values())
    print(f"case: {case}")
    print(f"files in manifest: {len(files)}, distinct hashes: {len(distinct)}, items in case: {len(items)}")
    print(f"values compared: {total}, disagreements: {len(problems)}")
    for field, n in sorted(checked.items()):
        bad = sum(1 for p in problems if f": {field}:" in p)
        print(f"  {field:<48} {n:>7} compared {bad:>5} disagree")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
