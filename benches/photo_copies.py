#!/usr/bin/env python3
"""Near-duplicates of full-size phone photos, with a manifest that benches/dups_precision.py reads.

    python3 ../shared/corpus/make_media.py /tmp/media --photos 60
    benches/photo_copies.py /tmp/media /tmp/photo-copies [--n 60]
    benches/dups_precision.py /tmp/photo-copies --bin /work/rel-target/release/triage

For each of the first N phone photos (12-50 MP): the original (hard-linked), a copy as a
messaging app sends it (long side 1600 px, quality 75, no EXIF), and a cropped one (8 % off
each side, long side 1280 px, quality 80). The originals are read by the DC-only reader, the
copies by the general decoder, so this checks that both give prints that still match, and that
different photos (made by one generator, so alike in style) stay apart. Needs Pillow.
"""

import argparse
import json
import os

from PIL import Image


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("media")
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=60)
    a = ap.parse_args()
    src = os.path.join(a.media, "photos")
    names = sorted(f for f in os.listdir(src) if f.lower().endswith(".jpg"))[: a.n]
    os.makedirs(a.out, exist_ok=True)
    files, groups = [], []
    for name in names:
        stem = os.path.splitext(name)[0]
        orig = os.path.join("originals", name)
        os.makedirs(os.path.join(a.out, "originals"), exist_ok=True)
        os.makedirs(os.path.join(a.out, "sent"), exist_ok=True)
        os.makedirs(os.path.join(a.out, "cropped"), exist_ok=True)
        target = os.path.join(a.out, orig)
        if not os.path.exists(target):
            os.link(os.path.join(src, name), target)
        im = Image.open(os.path.join(src, name))
        im.draft("RGB", (im.width // 2, im.height // 2))
        im = im.convert("RGB")
        w, h = im.size
        sent = os.path.join("sent", f"IMG-{stem}-WA.jpg")
        s = 1600 / max(w, h)
        im.resize((round(w * s), round(h * s)), Image.LANCZOS).save(os.path.join(a.out, sent), "JPEG", quality=75)
        crop = os.path.join("cropped", f"{stem}-crop.jpg")
        c = im.crop((int(w * 0.08), int(h * 0.08), int(w * 0.92), int(h * 0.92)))
        s = 1280 / max(c.size)
        c.resize((round(c.width * s), round(c.height * s)), Image.LANCZOS).save(os.path.join(a.out, crop), "JPEG", quality=80)
        files += [{"path": p} for p in (orig, sent, crop)]
        groups.append([orig, sent, crop])
    manifest = {"files": files, "exact_duplicate_groups": [], "near_duplicate_groups": groups}
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"{len(names)} photos, {len(files)} files in {a.out}")


if __name__ == "__main__":
    main()
