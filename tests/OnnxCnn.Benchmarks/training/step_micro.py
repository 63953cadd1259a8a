#!/usr/bin/python3
"""Micro-graphs for two step-graph choices, on the shapes of tests/fixtures/graphs/ppocr_cls at batch 16:

  hs_*.onnx  the backward of hard-swish written as x*HardSigmoid(x, 1/6, 1/2) (the 21 full-size ones):
             unfused (the Mul rule + the HardSigmoid rule + Sum), wherechain (Where on x < -3 / x > 3),
             maskramp (Where(0 < s < 1, x/3 + 1/2, s)), clipmask (s + (x/6)*[0 < s < 1]), and the zone read on x as
             |x| < 3: abswhere (Where(zone, x, 0)), absramp (Where(zone, s + x/6, s)), abscast (s + (x/6)*zone, chosen),
             shrink (s + (x - Shrink(x, 3))/6: no mask, but ORT's Shrink is slower than the 3 passes it saves).
  relu_*.onnx  ReLU's backward on its 6 full-size shapes: where (Where(y > 0, dY, 0)), sign (dY * Sign(y)),
             cast (dY * float(y > 0), chosen).
  rs_*.onnx  the Σ over batch and positions of the conv bias gradients: rkr (one ReduceSum over axes 0, 2, 3),
             flat (N x C x HW, axes 0, 2), twostage (over HW, then over N, chosen).

    /usr/bin/python3 tests/OnnxCnn.Benchmarks/training/step_micro.py [OUT]   # default /tmp/step_micro

Time each with `onnxcnn bench infer GRAPH --batch 16`, alternating graphs; compare same-run medians only.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

N = 16
HARD_SWISH = [(8, 24, 96), (8, 24, 96), (24, 12, 96), (32, 6, 96), (32, 6, 96), (32, 3, 96), (88, 3, 96), (88, 3, 96),
              (88, 3, 96), (88, 3, 96), (40, 3, 96), (40, 3, 96), (48, 3, 96), (48, 3, 96), (104, 3, 96), (104, 2, 96),
              (200, 2, 96), (200, 2, 96), (200, 2, 96), (200, 2, 96), (200, 2, 96)]
BIAS = [(8, 12, 96), (8, 6, 96), (8, 6, 96), (16, 3, 96), (16, 3, 96), (16, 3, 96), (16, 3, 96), (16, 3, 96), (32, 2, 96),
        (32, 2, 96), (32, 2, 96), (8, 24, 96), (24, 12, 96), (32, 6, 96), (32, 3, 96), (88, 3, 96), (88, 3, 96),
        (40, 3, 96), (48, 3, 96), (104, 2, 96), (200, 2, 96), (200, 2, 96), (200, 2, 96)]


class G:
    def __init__(self):
        self.nodes, self.inputs, self.outputs, self.inits, self.n = [], [], [], [], 0

    def name(self, hint):
        self.n += 1
        return f"{hint}{self.n}"

    def const(self, value, dtype):
        name = self.name("c")
        self.inits.append(numpy_helper.from_array(np.array(value, dtype), name))
        return name

    def node(self, op, ins, **attrs):
        out = self.name(op)
        self.nodes.append(helper.make_node(op, ins, [out], **attrs))
        return out

    def model(self, name):
        m = helper.make_model(helper.make_graph(self.nodes, name, self.inputs, self.outputs, self.inits),
                              opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
        onnx.checker.check_model(m)
        return m


def hard_swish(kind):
    g = G()
    sc = lambda v: g.const([v], np.float32)
    for i, (c, h, w) in enumerate(HARD_SWISH):
        x, dy = f"x{i}", f"dy{i}"
        g.inputs += [helper.make_tensor_value_info(x, TensorProto.FLOAT, [N, c, h, w]),
                     helper.make_tensor_value_info(dy, TensorProto.FLOAT, [N, c, h, w])]
        s = g.node("HardSigmoid", [x], alpha=1 / 6, beta=0.5)
        inside = lambda: g.node("And", [g.node("Greater", [s, sc(0)]), g.node("Less", [s, sc(1)])])
        if kind == "unfused":
            a, b = g.node("Mul", [dy, s]), g.node("Mul", [dy, x])
            r = g.node("Sum", [a, g.node("Where", [inside(), g.node("Mul", [b, sc(1 / 6)]), sc(0)])])
        elif kind == "wherechain":
            ramp = g.node("Add", [g.node("Mul", [x, sc(1 / 3)]), sc(0.5)])
            up = g.node("Where", [g.node("Greater", [x, sc(3)]), sc(1), ramp])
            r = g.node("Mul", [dy, g.node("Where", [g.node("Less", [x, sc(-3)]), sc(0), up])])
        elif kind == "abswhere":
            zone = g.node("Less", [g.node("Abs", [x]), sc(3)])
            lin = g.node("Mul", [g.node("Where", [zone, x, sc(0)]), sc(1 / 6)])
            r = g.node("Mul", [dy, g.node("Add", [s, lin])])
        elif kind == "absramp":
            zone = g.node("Less", [g.node("Abs", [x]), sc(3)])
            ramp = g.node("Add", [s, g.node("Mul", [x, sc(1 / 6)])])
            r = g.node("Mul", [dy, g.node("Where", [zone, ramp, s])])
        elif kind == "abscast":
            m = g.node("Cast", [g.node("Less", [g.node("Abs", [x]), sc(3)])], to=1)
            r = g.node("Mul", [dy, g.node("Add", [s, g.node("Mul", [g.node("Mul", [x, sc(1 / 6)]), m])])])
        elif kind == "shrink":
            inside = g.node("Sub", [x, g.node("Shrink", [x], lambd=3.0)])
            r = g.node("Mul", [dy, g.node("Add", [s, g.node("Mul", [inside, sc(1 / 6)])])])
        elif kind == "maskramp":
            ramp = g.node("Add", [g.node("Mul", [x, sc(1 / 3)]), sc(0.5)])
            r = g.node("Mul", [dy, g.node("Where", [inside(), ramp, s])])
        else:
            m = g.node("Cast", [inside()], to=1)
            r = g.node("Mul", [dy, g.node("Add", [s, g.node("Mul", [g.node("Mul", [x, sc(1 / 6)]), m])])])
        g.outputs.append(helper.make_tensor_value_info(r, TensorProto.FLOAT, [N, c, h, w]))
    return g.model("hs_" + kind)


RELU = [(32, 6, 96), (32, 6, 96), (24, 6, 96), (24, 12, 96), (8, 12, 96), (8, 24, 96)]


def relu(kind):
    g = G()
    zero = g.const([0], np.float32)
    for i, (c, h, w) in enumerate(RELU):
        x, dy = f"x{i}", f"dy{i}"
        g.inputs += [helper.make_tensor_value_info(x, TensorProto.FLOAT, [N, c, h, w]),
                     helper.make_tensor_value_info(dy, TensorProto.FLOAT, [N, c, h, w])]
        y = g.node("Relu", [x])
        if kind == "where":
            r = g.node("Where", [g.node("Greater", [y, zero]), dy, zero])
        elif kind == "sign":
            r = g.node("Mul", [dy, g.node("Sign", [y])])
        else:
            r = g.node("Mul", [dy, g.node("Cast", [g.node("Greater", [y, zero])], to=1)])
        g.outputs.append(helper.make_tensor_value_info(r, TensorProto.FLOAT, [N, c, h, w]))
    return g.model("relu_" + kind)


def bias_sum(kind):
    g = G()
    ints = lambda *v: g.const(list(v), np.int64)
    for i, (c, h, w) in enumerate(BIAS):
        dy = f"dy{i}"
        g.inputs.append(helper.make_tensor_value_info(dy, TensorProto.FLOAT, [N, c, h, w]))
        if kind == "rkr":
            r = g.node("ReduceSum", [dy, ints(0, 2, 3)], keepdims=0)
        elif kind == "flat":
            r = g.node("ReduceSum", [g.node("Reshape", [dy, ints(0, c, -1)]), ints(0, 2)], keepdims=0)
        else:
            rows = g.node("ReduceSum", [g.node("Reshape", [dy, ints(0, c, -1)]), ints(2)], keepdims=0)
            r = g.node("ReduceSum", [rows, ints(0)], keepdims=0)
        g.outputs.append(helper.make_tensor_value_info(r, TensorProto.FLOAT, [c]))
    return g.model("rs_" + kind)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/step_micro"
    os.makedirs(out, exist_ok=True)
    for kind in ("unfused", "wherechain", "maskramp", "clipmask", "abswhere", "absramp", "abscast", "shrink"):
        onnx.save(hard_swish(kind), os.path.join(out, f"hs_{kind}.onnx"))
    for kind in ("where", "sign", "cast"):
        onnx.save(relu(kind), os.path.join(out, f"relu_{kind}.onnx"))
    for kind in ("rkr", "flat", "twostage"):
        onnx.save(bias_sum(kind), os.path.join(out, f"rs_{kind}.onnx"))
    print(out)


if __name__ == "__main__":
    sys.exit(main())
