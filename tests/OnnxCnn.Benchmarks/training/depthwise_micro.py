#!/usr/bin/python3
"""Micro-graphs for choosing the depthwise-Conv backward formulations by measurement.

Writes one ONNX graph per formulation into OUT (default /tmp/depthwise_micro). Each graph holds the
backward of all eleven depthwise convolutions of tests/fixtures/graphs/ppocr_cls at batch 16 (the
inputs X and dY of every conv, the weight W), so `onnxcnn bench infer GRAPH --batch 16` times one
formulation over the model's real shapes. Run the graphs alternately (tests/OnnxCnn.Benchmarks/
README.md gives the commands); compare medians of the same run only.

    /usr/bin/python3 tests/OnnxCnn.Benchmarks/training/depthwise_micro.py [OUT]

dW formulations: taps (Pad, per kernel tap Slice + Mul + ReduceSum, Concat), tconv (the Conv over
transposed tensors, X as 1 x C·N x H x W and dY as C x N x Ho x Wo with group C, strides = the
forward dilations, dilations = the forward strides), im2col (one Conv with one-hot kernels extracts
every tap of X as N·C x taps x Ho x Wo, then a batched MatMul with dY). dX formulations: ctrans
(ConvTranspose with group C), flipconv (a Conv with the flipped kernel, zeros inserted into dY
first for strided convs).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

N = 16
# C, H, W, k, stride (H, W) of the depthwise convs in ppocr_cls; pads (k-1)//2
SHAPES = [(8, 24, 96, 3, (2, 1)), (24, 12, 96, 3, (2, 1)), (32, 6, 96, 3, (1, 1)), (32, 6, 96, 5, (2, 1)),
          (88, 3, 96, 5, (1, 1)), (88, 3, 96, 5, (1, 1)), (40, 3, 96, 5, (1, 1)), (48, 3, 96, 5, (1, 1)),
          (104, 3, 96, 5, (2, 1)), (200, 2, 96, 5, (1, 1)), (200, 2, 96, 5, (1, 1))]


def out_size(h, k, s, p):
    return (h + 2 * p - k) // s + 1


class G:
    def __init__(self):
        self.nodes, self.inits, self.inputs, self.outputs, self.n = [], [], [], [], 0

    def t(self, hint):
        self.n += 1
        return f"{hint}_{self.n}"

    def node(self, op, ins, **attrs):
        out = self.t(op)
        self.nodes.append(helper.make_node(op, ins, [out], name=out, **attrs))
        return out

    def ints(self, *v):
        name = self.t("c")
        self.inits.append(numpy_helper.from_array(np.array(v, np.int64), name))
        return name

    def floats(self, arr):
        name = self.t("f")
        self.inits.append(numpy_helper.from_array(arr.astype(np.float32), name))
        return name

    def inp(self, name, shape):
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
        return name

    def out(self, t, shape):
        self.outputs.append(helper.make_tensor_value_info(t, TensorProto.FLOAT, shape))


def dw_taps(g, x, dy, c, k, s, p, ho, wo):
    xp = g.node("Pad", [x, g.ints(0, 0, p, p, 0, 0, p, p)])
    cols = []
    for i in range(k):
        for j in range(k):
            sl = g.node("Slice", [xp, g.ints(i, j), g.ints(i + (ho - 1) * s[0] + 1, j + (wo - 1) * s[1] + 1),
                                  g.ints(2, 3), g.ints(*s)])
            r = g.node("ReduceSum", [g.node("Mul", [dy, sl]), g.ints(0, 2, 3)], keepdims=0)
            cols.append(g.node("Unsqueeze", [r, g.ints(1)]))
    return g.node("Reshape", [g.node("Concat", cols, axis=1), g.ints(0, 1, k, k)])


def dw_tapsmm(g, x, dy, c, k, s, p, ho, wo, h, w):
    """Taps over channel-major tensors: per tap a strided slice as C x 1 x K times dY as C x K x 1 (one batched MatMul)."""
    xt = g.node("Transpose", [g.node("Pad", [x, g.ints(0, 0, p, p, 0, 0, p, p)])], perm=[1, 0, 2, 3])
    dyt = g.node("Reshape", [g.node("Transpose", [dy], perm=[1, 0, 2, 3]), g.ints(c, -1, 1)])
    cols = []
    for i in range(k):
        for j in range(k):
            sl = g.node("Slice", [xt, g.ints(i, j), g.ints(i + (ho - 1) * s[0] + 1, j + (wo - 1) * s[1] + 1),
                                  g.ints(2, 3), g.ints(*s)])
            cols.append(g.node("MatMul", [g.node("Reshape", [sl, g.ints(c, 1, -1)]), dyt]))
    return g.node("Reshape", [g.node("Concat", cols, axis=1), g.ints(c, 1, k, k)])


def dw_tconv(g, x, dy, c, k, s, p, ho, wo, h, w):
    xt = g.node("Reshape", [g.node("Transpose", [x], perm=[1, 0, 2, 3]), g.ints(1, -1, h, w)])
    dyt = g.node("Transpose", [dy], perm=[1, 0, 2, 3])
    r = g.node("Conv", [xt, dyt], group=c, strides=[1, 1], dilations=list(s), pads=[p, p, p, p])
    kh = (h + 2 * p - s[0] * (ho - 1) - 1) + 1
    kw = (w + 2 * p - s[1] * (wo - 1) - 1) + 1
    if (kh, kw) != (k, k):
        r = g.node("Slice", [r, g.ints(0, 0), g.ints(k, k), g.ints(2, 3)])
    return g.node("Reshape", [r, g.ints(c, 1, k, k)])


def dw_im2col(g, x, dy, c, k, s, p, ho, wo, h, w):
    eye = np.zeros((k * k, 1, k, k), np.float32)
    for t in range(k * k):
        eye[t, 0, t // k, t % k] = 1
    x1 = g.node("Reshape", [x, g.ints(-1, 1, h, w)])
    cols = g.node("Conv", [x1, g.floats(eye)], strides=list(s), pads=[p, p, p, p])  # (N·C) x T x Ho x Wo
    cols = g.node("Reshape", [cols, g.ints(0, k * k, -1)])
    d = g.node("Reshape", [dy, g.ints(-1, ho * wo, 1)])
    r = g.node("MatMul", [cols, d])  # (N·C) x T x 1
    r = g.node("ReduceSum", [g.node("Reshape", [r, g.ints(-1, c, k * k)]), g.ints(0)], keepdims=0)
    return g.node("Reshape", [r, g.ints(c, 1, k, k)])


def dx_ctrans(g, dy, wt, c, k, s, p, h, w, ho, wo):
    op = [h - ((ho - 1) * s[0] - 2 * p + k), w - ((wo - 1) * s[1] - 2 * p + k)]
    return g.node("ConvTranspose", [dy, wt], strides=list(s), pads=[p, p, p, p], group=c, output_padding=op,
                  kernel_shape=[k, k])


def dx_flipconv(g, dy, wt, c, k, s, p, h, w, ho, wo):
    wf = g.node("Slice", [wt, g.ints(-1, -1), g.ints(-(2 ** 62), -(2 ** 62)), g.ints(2, 3), g.ints(-1, -1)])
    d = dy
    hh = ho
    if s[0] == 2:  # zeros between rows: N x C x Ho x 1 x Wo, padded to 2 rows, merged
        d = g.node("Unsqueeze", [d, g.ints(3)])
        d = g.node("Pad", [d, g.ints(0, 0, 0, 0, 0, 0, 0, 0, 1, 0)])
        d = g.node("Reshape", [d, g.ints(0, 0, 2 * ho, wo)])
        hh = 2 * ho
    # rows of the dilated dY: hh (the last one a zero row when strided); need output h
    top = k - 1 - p
    bottom = h + k - 1 - top - hh
    left = k - 1 - p
    right = w + k - 1 - left - wo
    pads = [top, left, bottom, right]
    if min(pads) < 0:
        d = g.node("Slice", [d, g.ints(0), g.ints(h + k - 1 - top), g.ints(2)])
        pads = [top, left, max(bottom, 0), right]
    return g.node("Conv", [d, wf], group=c, pads=pads)


def build(kind):
    g = G()
    for n, (c, h, w, k, s) in enumerate(SHAPES):
        p = (k - 1) // 2
        ho, wo = out_size(h, k, s[0], p), out_size(w, k, s[1], p)
        x = g.inp(f"x{n}", [N, c, h, w])
        dy = g.inp(f"dy{n}", [N, c, ho, wo])
        if kind.startswith("dx_"):
            # W enters through an op on a batch-shaped input: bench infer feeds batch-first inputs only.
            wt = g.node("Reshape", [g.node("ReduceMean", [g.inp(f"w{n}", [N, c, k, k])], axes=[0], keepdims=0),
                                    g.ints(c, 1, k, k)])
            g.out(globals()[kind](g, dy, wt, c, k, s, p, h, w, ho, wo), [N, c, h, w])
        elif kind == "dw_taps":
            g.out(dw_taps(g, x, dy, c, k, s, p, ho, wo), [c, 1, k, k])
        else:
            g.out(globals()[kind](g, x, dy, c, k, s, p, ho, wo, h, w), [c, 1, k, k])
    if kind.startswith("dx_"):
        g.inputs = [i for i in g.inputs if not i.name.startswith("x")]
    graph = helper.make_graph(g.nodes, kind, g.inputs, g.outputs, g.inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


# Cin, Cout, H, W of the 1x1 convs (expand, linear, conv2) in ppocr_cls
POINTWISE = [(8, 8, 24, 96), (8, 24, 12, 96), (8, 32, 6, 96), (8, 32, 6, 96), (16, 88, 3, 96), (16, 88, 3, 96),
             (16, 40, 3, 96), (16, 48, 3, 96), (16, 104, 3, 96), (32, 200, 2, 96), (32, 200, 2, 96),
             (8, 8, 12, 96), (24, 8, 6, 96), (32, 8, 6, 96), (32, 16, 3, 96), (88, 16, 3, 96), (88, 16, 3, 96),
             (40, 16, 3, 96), (48, 16, 3, 96), (104, 32, 2, 96), (200, 32, 2, 96), (200, 32, 2, 96), (32, 200, 2, 96)]


def build_pointwise(kind):
    g = G()
    for n, (ci, co, h, w) in enumerate(POINTWISE):
        x = g.inp(f"x{n}", [N, ci, h, w])
        dy = g.inp(f"dy{n}", [N, co, h, w])
        if kind.startswith("pw_dx"):
            wt = g.node("Reshape", [g.node("ReduceMean", [g.inp(f"w{n}", [N, co, ci])], axes=[0], keepdims=0),
                                    g.ints(co, ci, 1, 1)])
            if kind == "pw_dx_ctrans":
                r = g.node("ConvTranspose", [dy, wt], kernel_shape=[1, 1], strides=[1, 1], pads=[0, 0, 0, 0])
            else:
                r = g.node("Conv", [dy, g.node("Transpose", [wt], perm=[1, 0, 2, 3])], kernel_shape=[1, 1])
            g.out(r, [N, ci, h, w])
            continue
        if kind == "pw_dw_taps":  # today's dense rule: transposes, one (identity) slice, Gemm
            xt = g.node("Transpose", [x], perm=[1, 0, 2, 3])
            sl = g.node("Slice", [xt, g.ints(0, 0), g.ints(h, w), g.ints(2, 3), g.ints(1, 1)])
            d2 = g.node("Reshape", [g.node("Transpose", [dy], perm=[1, 0, 2, 3]), g.ints(0, -1)])
            r = g.node("Gemm", [d2, g.node("Reshape", [sl, g.ints(0, -1)])], transB=1)
        elif kind == "pw_dw_bmm":  # per-sample MatMul dY[n] (M x P) by X[n]^T (P x C), summed over n
            x3 = g.node("Transpose", [g.node("Reshape", [x, g.ints(0, ci, -1)])], perm=[0, 2, 1])
            r = g.node("ReduceSum", [g.node("MatMul", [g.node("Reshape", [dy, g.ints(0, co, -1)]), x3]), g.ints(0)], keepdims=0)
        else:
            r = g.node("Einsum", [g.node("Reshape", [dy, g.ints(0, co, -1)]), g.node("Reshape", [x, g.ints(0, ci, -1)])],
                       equation="nmp,ncp->mc")
        g.out(g.node("Reshape", [r, g.ints(co, ci, 1, 1)]), [co, ci, 1, 1])
    graph = helper.make_graph(g.nodes, kind, g.inputs, g.outputs, g.inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/depthwise_micro"
    os.makedirs(out, exist_ok=True)
    for kind in ("dw_taps", "dw_tapsmm", "dw_tconv", "dw_im2col", "dx_ctrans", "dx_flipconv",
                 "pw_dx_ctrans", "pw_dx_conv", "pw_dw_taps", "pw_dw_bmm", "pw_dw_einsum"):
        m = build_pointwise(kind) if kind.startswith("pw_") else build(kind)
        onnx.checker.check_model(m)
        onnx.save(m, os.path.join(out, kind + ".onnx"))
        print(os.path.join(out, kind + ".onnx"))


if __name__ == "__main__":
    sys.exit(main())
