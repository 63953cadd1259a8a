#!/usr/bin/python3
"""PyTorch reference for 'onnxcnn bench train': torchvision ResNet-18 (random init), new 10-class fc,
layer4 + fc trainable (everything else frozen, eval-mode BatchNorm as a frozen fine-tune does),
SGD momentum 0.9, batch 32 at 224x224, synthetic data. Prints {"imagesPerSecond": ...}.

    /usr/bin/python3 tests/OnnxCnn.Benchmarks/training/torch_bench.py [--steps 5] [--batch 32]
"""
import argparse
import json
import time

import torch
import torchvision


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = torchvision.models.resnet18()
    model.fc = torch.nn.Linear(512, 10)
    for name, p in model.named_parameters():
        p.requires_grad = name.startswith("layer4.") or name.startswith("fc.")
    model.eval()  # frozen BatchNorm statistics
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9)
    x = torch.rand(args.batch, 3, 224, 224)
    y = torch.arange(args.batch) % 10
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = time.perf_counter() - start
    print(json.dumps({"runtime": f"pytorch {torch.__version__}", "threads": torch.get_num_threads(), "batch": args.batch,
                      "steps": args.steps, "imagesPerSecond": round(args.batch * args.steps / seconds, 2)}))


if __name__ == "__main__":
    main()
