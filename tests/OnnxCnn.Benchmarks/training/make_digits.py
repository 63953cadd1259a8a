#!/usr/bin/python3
"""Writes scikit-learn's digits (1,797 8x8 grey images, 10 classes) as 64x64 RGB PNGs, one folder per class.

The feature-cache benchmark of the fine-tune workflow (README in this folder): ResNet-18 head-only on these
images with --val-split 0.2 trains on 1,437 of them. Needs /usr/bin/python3 with sklearn and PIL (Debian).

    /usr/bin/python3 make_digits.py OUT_DIR
"""
import os
import sys

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits


def main(out):
    digits = load_digits()
    for index, (pixels, label) in enumerate(zip(digits.images, digits.target)):
        folder = os.path.join(out, str(label))
        os.makedirs(folder, exist_ok=True)
        grey = (pixels * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
        image = Image.fromarray(grey, mode="L").resize((64, 64), Image.BILINEAR).convert("RGB")
        image.save(os.path.join(folder, f"{index:04d}.png"))
    print(f"wrote {len(digits.target)} images of {len(set(digits.target))} classes to {out}")


if __name__ == "__main__":
    main(sys.argv[1])
