#!/usr/bin/python3
"""The reference pipeline for 'onnxcnn bench preprocess': PIL decode + RandomAffine + horizontal
flip + Resize(256) + CenterCrop(224) + ToTensor + Normalize through a torch DataLoader with two
worker processes, batch 32. Prints {"imagesPerSecond": ...} (images over wall time of 2 epochs
after a warm-up epoch). DIR holds one folder per class or the images themselves (as
'onnxcnn bench preprocess' reads it); every .jpg/.jpeg/.png under it is one sample.

    /usr/bin/python3 tests/OnnxCnn.Benchmarks/preprocess/torchvision_bench.py DIR [--workers 2] [--no-augment]
"""
import argparse
import json
import time

import os

import torch
from PIL import Image
from torchvision import transforms


class Images(torch.utils.data.Dataset):
    """Every image under a folder, sorted by path, decoded with PIL as ImageFolder's loader does."""

    def __init__(self, root, transform):
        self.files = sorted(os.path.join(d, f) for d, _, names in os.walk(root) for f in names
                            if f.lower().endswith((".jpg", ".jpeg", ".png")))
        if not self.files:
            raise SystemExit(f"no images under {root}")
        self.transform = transform

    def __len__(self):
        return len(self.files)

    def __getitem__(self, index):
        with open(self.files[index], "rb") as f:
            image = Image.open(f).convert("RGB")
        return self.transform(image), 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--no-augment", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    steps = [] if args.no_augment else [transforms.RandomAffine(degrees=20, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=10), transforms.RandomHorizontalFlip()]
    transform = transforms.Compose(steps + [
        transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    dataset = Images(args.data, transform)
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch, shuffle=True, num_workers=args.workers,
                                         persistent_workers=args.workers > 0)
    for _ in loader:  # warm-up epoch (worker start, file cache)
        pass
    start = time.perf_counter()
    count = 0
    for _ in range(args.epochs):
        for x, _ in loader:
            count += x.shape[0]
    seconds = time.perf_counter() - start
    print(json.dumps({"runtime": "pil+torchvision", "workers": args.workers, "augment": not args.no_augment,
                      "images": count, "imagesPerSecond": round(count / seconds, 1)}))


if __name__ == "__main__":
    main()
