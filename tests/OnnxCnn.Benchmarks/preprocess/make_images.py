#!/usr/bin/python3
"""Writes N ImageNet-sized JPEGs (about 500x375, quality 90) into a folder per class, cut at
random from the real photos that ship with Debian's python3-sklearn and python3-skimage, for the
preprocessing benchmark. The output is not committed (it goes under tests/fixtures/generated/).

    /usr/bin/python3 tests/OnnxCnn.Benchmarks/preprocess/make_images.py [OUT] [N]
"""
import os
import random
import sys

from PIL import Image


def sources():
    found = []
    try:
        import sklearn.datasets
        d = os.path.join(os.path.dirname(sklearn.datasets.__file__), "images")
        found += [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".jpg")]
    except ImportError:
        pass
    try:
        import skimage
        d = skimage.data_dir
        found += [os.path.join(d, f) for f in ("coffee.png", "chelsea.png", "astronaut.png") if os.path.exists(os.path.join(d, f))]
    except ImportError:
        pass
    if not found:
        sys.exit("no source photos: apt-get install python3-sklearn python3-skimage")
    return [Image.open(p).convert("RGB") for p in found]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/generated/bench-images"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 256
    rng = random.Random(0)
    photos = sources()
    for i in range(n):
        photo = photos[i % len(photos)]
        w, h = (500, 375) if rng.random() < 0.7 else (375, 500)
        scale = rng.uniform(1.0, 1.6)
        cw, ch = min(photo.width, int(w / scale)), min(photo.height, int(h / scale))
        x, y = rng.randint(0, photo.width - cw), rng.randint(0, photo.height - ch)
        img = photo.crop((x, y, x + cw, y + ch)).resize((w, h), Image.BICUBIC)
        folder = os.path.join(out, f"class{i % 4}")
        os.makedirs(folder, exist_ok=True)
        img.save(os.path.join(folder, f"img{i:04d}.jpg"), quality=90)
    print(f"wrote {n} images to {out}")


if __name__ == "__main__":
    main()
