#!/usr/bin/python3
"""The reference pipeline for 'onnxcnn bench preprocess': PIL decode + RandomAffine + horizontal
flip + Resize(256) + CenterCrop(224) + ToTensor + Normalize through a torch DataLoader with two
worker processes, batch 32. Prints {"imagesPerSecond": ...} (images over wall time of 2 epochs
after a warm-up epoch).

    /usr/bin/python3 tests/OnnxCnn.Benchmarks/preprocess/torchvision_bench.py DIR [--workers 2] [--no-augment]
"""
import argparse
import json
import time

import torch
from torchvision import datasets, transforms


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
    dataset = datasets.ImageFolder(args.data, transform=transform)
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
