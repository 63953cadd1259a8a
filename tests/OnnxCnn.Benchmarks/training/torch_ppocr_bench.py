#!/usr/bin/python3
"""PyTorch reference for issue 12's small-model target: the PaddleOCR text-direction classifier
(tests/fixtures/graphs/ppocr_cls/model.onnx, opset 9) run by a small ONNX interpreter written in PyTorch
ops, every parameter trainable (Conv weights, BatchNorm scale and shift; running statistics frozen, as
'bench train' does by default), a new 2-class head in place of the 1000-input MatMul's 2 columns,
SGD momentum 0.9, batch 16 at 48x192, synthetic data. Times the training step (forward, backward,
optimiser) and inference (no_grad, the same graph ending in Softmax) in interleaved rounds and prints
{"stepMs", "inferMs", "ratio"} (medians). Step ÷ inference is the figure 'onnxcnn bench train' reports
as its efficiency's reciprocal yardstick, here for PyTorch 1.13.

    /usr/bin/python3 tests/OnnxCnn.Benchmarks/training/torch_ppocr_bench.py [--batch 16] [--threads 2] [--rounds 5]
"""
import argparse
import json
import os
import statistics
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "..", "..", "fixtures", "graphs", "ppocr_cls", "model.onnx")


class OnnxModule(torch.nn.Module):
    """The graph's nodes in order, float tensors of Constant nodes as parameters (BatchNorm mean/var as buffers)."""

    def __init__(self, path, classes=None):
        super().__init__()
        graph = onnx.load(path).graph
        self.nodes = [n for n in graph.node if n.op_type != "Constant"]
        # Attributes read once: the interpreter's own Python work per node stays small against the ops'.
        self.attributes = [{at.name: onnx.helper.get_attribute_value(at) for at in n.attribute} for n in self.nodes]
        self.input = graph.input[0].name
        self.output = graph.output[0].name
        constants = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in graph.node if n.op_type == "Constant"}
        constants.update({t.name: numpy_helper.to_array(t) for t in graph.initializer})
        stats = {n.input[i] for n in self.nodes if n.op_type == "BatchNormalization" for i in (3, 4)}
        self.params = torch.nn.ParameterDict()
        self.names = {}
        for i, (name, value) in enumerate(sorted(constants.items())):
            key = "p%d" % i
            self.names[name] = key
            tensor = torch.from_numpy(np.array(value))
            if name in stats:
                self.register_buffer(key, tensor.float())
            elif tensor.dtype == torch.float32:
                self.params[key] = torch.nn.Parameter(tensor)
            else:
                self.register_buffer(key, tensor)
        if classes is not None:
            self.new_head(classes)

    def new_head(self, classes):
        """The MatMul's weight [K, C] (and the bias added after it) replaced by a new head of `classes` columns."""
        matmul = next(n for n in self.nodes if n.op_type == "MatMul")
        head = self.names[matmul.input[1]]
        k = self.params[head].shape[0]
        self.params[head] = torch.nn.Parameter(torch.randn(k, classes) * 0.01)
        for n in self.nodes:
            if n.op_type == "Add" and n.input[0] == matmul.output[0]:
                self.params[self.names[n.input[1]]] = torch.nn.Parameter(torch.zeros(classes))

    def value(self, env, name):
        if name in env:
            return env[name]
        key = self.names[name]
        return self.params[key] if key in self.params else getattr(self, key)

    def forward(self, x, logits=False):
        env = {self.input: x}
        for n, a in zip(self.nodes, self.attributes):
            i = [self.value(env, name) for name in n.input]
            op = n.op_type
            if op == "Conv":
                p = a.get("pads", [0, 0, 0, 0])
                y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, a.get("strides", [1, 1]), (p[0], p[1]), a.get("dilations", [1, 1]), a.get("group", 1))
            elif op == "BatchNormalization":
                y = F.batch_norm(i[0], i[3], i[4], i[1], i[2], training=False, eps=a.get("epsilon", 1e-5))
            elif op == "HardSigmoid":
                y = torch.clamp(i[0] * a.get("alpha", 0.2) + a.get("beta", 0.5), 0, 1)
            elif op == "Mul":
                y = i[0] * i[1]
            elif op == "Add":
                y = i[0] + i[1]
            elif op == "Relu":
                y = F.relu(i[0])
            elif op == "GlobalAveragePool":
                y = i[0].mean(dim=(2, 3), keepdim=True)
            elif op == "MaxPool":
                p = a.get("pads", [0, 0, 0, 0])
                y = F.max_pool2d(i[0], a["kernel_shape"], a.get("strides", a["kernel_shape"]), (p[0], p[1]))
            elif op in ("Shape", "Slice", "Concat"):
                y = None  # only feed the Reshape below, which flattens
            elif op == "Reshape":
                y = i[0].reshape(i[0].shape[0], -1)
            elif op == "MatMul":
                y = i[0] @ i[1]
            elif op == "Softmax":
                y = i[0] if logits else F.softmax(i[0], dim=a.get("axis", 1))
            else:
                raise NotImplementedError(op)
            env[n.output[0]] = y
        return env[self.output]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--check", metavar="OUT.npy", help="write the original model's outputs for a fixed input (INPUT.npy beside it) and exit")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.check:
        # The interpreter against ONNX Runtime: compare OUT.npy with 'onnxcnn infer MODEL -i INPUT.npy'.
        x = torch.rand(4, 3, 48, 192)
        np.save(args.check.replace(".npy", "_input.npy"), x.numpy())
        with torch.no_grad():
            np.save(args.check, OnnxModule(MODEL).eval()(x).numpy())
        return
    model = OnnxModule(MODEL, 2)
    model.eval()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.rand(args.batch, 3, 48, 192)
    y = torch.arange(args.batch) % 2
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(x, logits=True), y)
        loss.backward()
        optimizer.step()

    def infer():
        with torch.no_grad():
            model(x)

    def timed(f, n):
        start = time.perf_counter()
        for _ in range(n):
            f()
        return (time.perf_counter() - start) * 1000 / n

    step()
    infer()
    steps, infers = [], []
    for _ in range(args.rounds):
        steps.append(timed(step, args.steps))
        infers.append(timed(infer, args.steps * 2))
    print(json.dumps({"stepMs": statistics.median(steps), "inferMs": statistics.median(infers),
                      "ratio": statistics.median(s / i for s, i in zip(steps, infers)),
                      "parameters": sum(p.numel() for p in model.parameters())}))


if __name__ == "__main__":
    main()
