#!/usr/bin/env python3
"""Precision and recall of `triage dups` on a corpus made by make_realistic.py.

    benches/dups_precision.py CORPUS_DIR [--bin target/release/triage] [--threshold N ...]
                              [--case DIR] [--keep]

Ingests CORPUS_DIR into a fresh case (or reuses --case DIR when it already holds one), runs
`triage dups --json` once per threshold (default: the built-in default), maps references to
corpus paths with `triage list --json`, and compares with the manifest.

Truth: files are the same scene when the manifest puts them in one near_duplicate_groups or
exact_duplicate_groups entry (joined transitively). Found: files whose items share a `similar`
or `exact` group (joined transitively; an item stands for every path it was received under).
Both are counted over PAIRS of files; a second table counts pairs of image items for the
`similar` groups alone against the near-duplicate groups (exact copies are one item there).
Standard library only.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter


def pairs(n):
    return n * (n - 1) // 2


class Sets:
    def __init__(self):
        self.parent = {}

    def find(self, x):
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def roots(self, members):
        return {m: self.find(m) for m in members}


def score(found_root, truth_root):
    """Pair counts: found, true, and both, from two partitions of the same members."""
    found = sum(pairs(n) for n in Counter(found_root.values()).values())
    true = sum(pairs(n) for n in Counter(truth_root.values()).values())
    both = sum(pairs(n) for n in Counter((found_root[m], truth_root[m]) for m in found_root).values())
    return found, true, both


def ratio(a, b):
    return a / b if b else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus")
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "release", "triage"))
    ap.add_argument("--threshold", type=int, action="append", help="pHash threshold (repeat for a table); default: the built-in one")
    ap.add_argument("--case", help="case folder to use (ingested into when new or empty)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary case")
    args = ap.parse_args()
    corpus = os.path.abspath(args.corpus)
    binary = os.path.abspath(args.bin)
    manifest = json.load(open(os.path.join(corpus, "manifest.json"), encoding="utf-8"))

    tmp = None
    case = args.case
    if case is None:
        tmp = tempfile.mkdtemp(prefix="dups-precision-")
        case = os.path.join(tmp, "case")
    env = dict(os.environ, TRIAGE_CASE=case)
    if not os.path.exists(os.path.join(case, "case.db")):
        subprocess.run([binary, "init", case], check=True, stdout=subprocess.DEVNULL)
        t = time.time()
        r = subprocess.run([binary, "ingest", "--source", "bench", "--json", corpus], env=env,
                           capture_output=True, text=True)
        if r.returncode not in (0, 1):
            sys.exit(f"ingest failed: {r.stderr}")
        s = json.loads(r.stdout)
        print(f"ingested {s['files']} files ({s['new']} new) in {time.time() - t:.1f} s into {case}")

    # Every path each item was received under, relative to the corpus.
    paths_of = {}
    listing = subprocess.run([binary, "list", "--json"], env=env, check=True, capture_output=True, text=True)
    kind_of = {}
    for line in listing.stdout.splitlines():
        item = json.loads(line)
        kind_of[item["ref"]] = item["type"]
        paths_of[item["ref"]] = [os.path.relpath(s["path"], corpus) for s in item["sources"]]
    path_ref = {p: ref for ref, ps in paths_of.items() for p in ps}
    files = [f["path"] for f in manifest["files"]]
    missing = [p for p in files if p not in path_ref]
    if missing:
        print(f"warning: {len(missing)} corpus files are not in the case, e.g. {missing[0]}")
        files = [p for p in files if p in path_ref]

    truth = Sets()
    for g in manifest["exact_duplicate_groups"] + manifest["near_duplicate_groups"]:
        for p in g[1:]:
            truth.union(g[0], p)
    truth_root = truth.roots(files)
    # Item level: image items joined by near-duplicate groups only.
    near = Sets()
    for g in manifest["near_duplicate_groups"]:
        for p in g[1:]:
            near.union(path_ref[g[0]], path_ref[p])
    images = [ref for ref, k in kind_of.items() if k == "image"]
    near_root = near.roots(images)

    rows = []
    for threshold in args.threshold or [None]:
        cmd = [binary, "dups", "--json"] + ([] if threshold is None else ["--threshold", str(threshold)])
        t = time.time()
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        secs = time.time() - t
        if r.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed: {r.stderr}")
        groups = json.loads(r.stdout)["groups"]
        found = Sets()
        similar = Sets()
        for g in groups:
            refs = g["refs"]
            members = [p for ref in refs for p in paths_of[ref]]
            for p in members[1:]:
                found.union(members[0], p)
            if g["kind"] == "similar":
                for ref in refs[1:]:
                    similar.union(refs[0], ref)
        f, t_, both = score(found.roots(files), truth_root)
        fi, ti, bothi = score(similar.roots(images), near_root)
        rows.append((threshold, len(groups), f, t_, both, fi, ti, bothi, secs))

    print(f"corpus {corpus}: {len(files)} files, {len(images)} image items")
    print("threshold  groups  | file pairs: found   true  right  precision  recall | image-item pairs (similar): found   true  right  precision  recall | dups s")
    for th, ng, f, t_, both, fi, ti, bothi, secs in rows:
        name = "default" if th is None else str(th)
        print(f"{name:>9}  {ng:6}  | {f:17} {t_:6} {both:6}  {ratio(both, f):9.4f}  {ratio(both, t_):6.4f} |"
              f" {fi:32} {ti:6} {bothi:6}  {ratio(bothi, fi):9.4f}  {ratio(bothi, ti):6.4f} | {secs:6.2f}")
    if tmp and not args.keep:
        subprocess.run(["rm", "-rf", tmp])
    elif tmp:
        print(f"case kept in {case}")


if __name__ == "__main__":
    main()
