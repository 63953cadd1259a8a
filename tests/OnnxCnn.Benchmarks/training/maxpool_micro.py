#!/usr/bin/python3
"""Micro-graphs for MaxPool's backward on the 2x2/s2 pool of tests/fixtures/graphs/ppocr_cls at batch 16
(x 16x200x2x96, dY 16x200x1x48), each with its forward:

  scatter   MaxPool with indices, ScatterElements(reduction=add) onto zeros (the rule)
  unpool    MaxPool with indices, MaxUnpool (0.76x on the CPU, not taken: ORT's CUDA provider has no MaxUnpool)
  s2d       plain MaxPool, SpaceToDepth, ArgMax over the taps, one-hot mask times dY, DepthToSpace
  s2dwhere  the same with Where instead of the mask's Cast and Mul
  argmax6   plain MaxPool, x as N x C x Ho x 2 x Wo x 2, first maximal row then column by ArgMax, broadcast mask
  plain     the forward alone (MaxPool without indices)

    /usr/bin/python3 tests/OnnxCnn.Benchmarks/training/maxpool_micro.py [OUT]   # default /tmp/maxpool_micro

Time each with `onnxcnn bench infer GRAPH --batch 16`, alternating graphs; compare same-run medians only.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as T, helper, numpy_helper

N, C, H, W = 16, 200, 2, 96


def model(kind):
    nodes=[]; inits=[]
    def c(name, arr): inits.append(numpy_helper.from_array(np.array(arr), 'k_'+name)); return 'k_'+name
    def n(op, ins, out, **a): nodes.append(helper.make_node(op, ins, [out], **a)); return out
    x='x'; dy='dy'
    if kind=='scatter':
        nodes.append(helper.make_node('MaxPool',[x],['y','idx'],kernel_shape=[2,2],strides=[2,2]))
        z=n('ConstantOfShape',[c('tot',np.array([N*C*H*W],np.int64))],'z')
        fi=n('Reshape',['idx',c('f',np.array([-1],np.int64))],'fi'); fd=n('Reshape',[dy,'k_f'],'fd')
        s=n('ScatterElements',[z,fi,fd],'s',axis=0,reduction='add')
        out=n('Reshape',[s,c('shp',np.array([N,C,H,W],np.int64))],'out')
    elif kind=='unpool':
        nodes.append(helper.make_node('MaxPool',[x],['y','idx'],kernel_shape=[2,2],strides=[2,2]))
        out=n('MaxUnpool',[dy,'idx',c('shp',np.array([N,C,H,W],np.int64))],'out',kernel_shape=[2,2],strides=[2,2])
    elif kind in('s2d','s2dwhere'):
        n('MaxPool',[x],'y',kernel_shape=[2,2],strides=[2,2])
        s=n('SpaceToDepth',[x],'s',blocksize=2)
        s5=n('Reshape',[s,c('s5',np.array([0,4,C,H//2,W//2],np.int64))],'s5')
        am=n('ArgMax',[s5],'am',axis=1)
        m=n('Equal',[am,c('iota',np.arange(4,dtype=np.int64).reshape(1,4,1,1,1))],'m')
        d5=n('Reshape',[dy,c('d5',np.array([0,1,C,H//2,W//2],np.int64))],'d5')
        if kind=='s2d': sp=n('Mul',[n('Cast',[m],'mf',to=1),d5],'sp')
        else: sp=n('Where',[m,d5,c('zero',np.array(0,np.float32))],'sp')
        out=n('DepthToSpace',[n('Reshape',[sp,c('s4',np.array([0,4*C,H//2,W//2],np.int64))],'s4r')],'out',blocksize=2,mode='DCR')
    elif kind=='argmax6':
        n('MaxPool',[x],'y',kernel_shape=[2,2],strides=[2,2])
        w6=n('Reshape',[x,c('w6',np.array([0,0,H//2,2,W//2,2],np.int64))],'w6r')
        col=n('ArgMax',[w6],'col',axis=5); rm=n('ReduceMax',[w6],'rm',axes=[5]); row=n('ArgMax',[rm],'row',axis=3)
        f=n('And',[n('Equal',[row,c('rows',np.arange(2,dtype=np.int64).reshape(2,1,1))],'re'),n('Equal',[col,c('cols',np.arange(2,dtype=np.int64))],'ce')],'first')
        sp=n('Mul',[n('Cast',[f],'ff',to=1),n('Reshape',[dy,c('d6',np.array([0,0,H//2,1,W//2,1],np.int64))],'d6r')],'sp')
        out=n('Reshape',[sp,c('o',np.array([0,0,H,W],np.int64))],'out')
    elif kind=='plain':
        out=n('MaxPool',[x],'y',kernel_shape=[2,2],strides=[2,2])
    g=helper.make_graph(nodes,kind,[helper.make_tensor_value_info('x',T.FLOAT,[N,C,H,W]),helper.make_tensor_value_info('dy',T.FLOAT,[N,C,H//2,W//2])],
        [helper.make_tensor_value_info(out,T.FLOAT,[N,C,H,W] if kind!='plain' else [N,C,H//2,W//2])],inits)
    m=helper.make_model(g,opset_imports=[helper.make_opsetid('',17)],ir_version=8); onnx.checker.check_model(m)
    return m


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/maxpool_micro"
    os.makedirs(out, exist_ok=True)
    for kind in ("scatter", "unpool", "s2d", "s2dwhere", "argmax6", "plain"):
        onnx.save(model(kind), os.path.join(out, f"{kind}.onnx"))
    print(out)


if __name__ == "__main__":
    sys.exit(main())
