using OnnxCnn.Graphs.Proto;

namespace OnnxCnn.Graphs.Internal;

/// <summary>Per-operator shape rules. Each sets the shapes (and folded values) of a node's outputs.</summary>
internal static class ShapeRules
{
    private const int Float = (int)TensorProto.Types.DataType.Float;
    private const int Int64 = (int)TensorProto.Types.DataType.Int64;
    private const int Bool = (int)TensorProto.Types.DataType.Bool;

    private static readonly HashSet<string> SameShape = new(StringComparer.Ordinal)
    {
        "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Softmax", "LogSoftmax", "Identity",
        "Tanh", "Exp", "Log", "Sqrt", "Neg", "Abs", "Erf", "Elu", "Selu", "Softplus", "Softsign", "Reciprocal",
        "Floor", "Ceil", "Round", "LRN", "InstanceNormalization", "LayerNormalization", "Mish", "Gelu", "ThresholdedRelu",
        "Celu", "Sign", "Sin", "Cos", "BatchNormalization", "Dropout", "CumSum", "Hardmax", "MeanVarianceNormalization",
    };

    private static readonly HashSet<string> Broadcasting = new(StringComparer.Ordinal)
    {
        "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "PRelu", "Where", "Mod", "BitShift",
    };

    private static readonly HashSet<string> Comparisons = new(StringComparer.Ordinal)
    {
        "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Xor",
    };

    public static void Apply(NodeProto node, ShapeContext c)
    {
        if (node.Domain is not ("" or "ai.onnx"))
        {
            return;
        }

        try
        {
            Dispatch(node, c);
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentException or InvalidOperationException or OverflowException or DivideByZeroException)
        {
            // A malformed node leaves its outputs unknown; the validator reports real graph errors.
        }
    }

    private static void Dispatch(NodeProto node, ShapeContext c)
    {
        var op = node.OpType;
        var x = node.Input.Count > 0 ? c.Get(node.Input[0]) : TensorShape.Unknown;
        if (SameShape.Contains(op))
        {
            c.Set(node.Output[0], x);
            if (op == "Dropout" && node.Output.Count > 1)
            {
                c.Set(node.Output[1], x with { ElementType = Bool });
            }

            if (op == "BatchNormalization")
            {
                // Training mode: running mean and variance come out with the statistics' shape.
                for (var i = 1; i < node.Output.Count && node.Input.Count > 3; i++)
                {
                    c.Set(node.Output[i], c.Get(node.Input[3]));
                }
            }

            if (op == "Identity" && c.Value(node.Input[0]) is { } v)
            {
                c.SetValue(node.Output[0], v);
            }

            return;
        }

        if (Broadcasting.Contains(op) || Comparisons.Contains(op))
        {
            var shapes = node.Input.Where(i => i.Length > 0).Select(c.Get).ToList();
            var type = op == "Where" ? shapes[1].ElementType : Comparisons.Contains(op) ? Bool : shapes[0].ElementType;
            c.Set(node.Output[0], new TensorShape(type, Broadcast(shapes.Select(s => s.Dims).ToList())));
            FoldArithmetic(node, c);
            return;
        }

        switch (op)
        {
            case "Not":
                c.Set(node.Output[0], x with { ElementType = Bool });
                return;
            case "Constant":
                if (OnnxGraph.ConstantValue(node) is { } t)
                {
                    c.Set(node.Output[0], new TensorShape(t.DataType, t.Dims.Select(Dim.Of).ToArray()));
                    c.TrySetValue(node.Output[0], t);
                }

                return;
            case "Cast":
                c.Set(node.Output[0], x with { ElementType = (int)Attr.Int(node, "to", 0) });
                if (c.Value(node.Input[0]) is { } cv)
                {
                    c.SetValue(node.Output[0], cv);
                }

                return;
            case "Conv":
            case "ConvInteger":
                Conv(node, c, x);
                return;
            case "ConvTranspose":
                ConvTranspose(node, c, x);
                return;
            case "MaxPool":
            case "AveragePool":
            case "LpPool":
                Pool(node, c, x);
                return;
            case "MaxUnpool":
                MaxUnpool(node, c, x);
                return;
            case "GlobalAveragePool":
            case "GlobalMaxPool":
            case "GlobalLpPool":
                c.Set(node.Output[0], x.Dims is null ? x : x with { Dims = [.. x.Dims.Take(2), .. Enumerable.Repeat(Dim.Of(1), x.Dims.Length - 2)] });
                return;
            case "Gemm":
                Gemm(node, c, x);
                return;
            case "MatMul":
                MatMul(node, c, x);
                return;
            case "Flatten":
                Flatten(node, c, x);
                return;
            case "Reshape":
                Reshape(node, c, x);
                return;
            case "Transpose":
                Transpose(node, c, x);
                return;
            case "Squeeze":
                Squeeze(node, c, x);
                return;
            case "Unsqueeze":
                Unsqueeze(node, c, x);
                return;
            case "Concat":
                Concat(node, c);
                return;
            case "Split":
                Split(node, c, x);
                return;
            case "Pad":
                Pad(node, c, x);
                return;
            case "Resize":
            case "Upsample":
                Resize(node, c, x);
                return;
            case "ReduceMean":
            case "ReduceSum":
            case "ReduceMax":
            case "ReduceMin":
            case "ReduceProd":
            case "ReduceL1":
            case "ReduceL2":
            case "ReduceLogSumExp":
            case "ReduceSumSquare":
            case "ArgMax":
            case "ArgMin":
                Reduce(node, c, x);
                return;
            case "Shape":
                ShapeOp(node, c, x);
                return;
            case "Size":
                c.Set(node.Output[0], new TensorShape(Int64, []));
                if (x.ElementCount >= 0)
                {
                    c.SetValue(node.Output[0], [Dim.Of(x.ElementCount)]);
                }

                return;
            case "Gather":
                Gather(node, c, x);
                return;
            case "Slice":
                Slice(node, c, x);
                return;
            case "Expand":
                if (c.Value(node.Input[1]) is { } target)
                {
                    c.Set(node.Output[0], x with { Dims = Broadcast([x.Dims, target]) });
                }
                else
                {
                    c.Set(node.Output[0], x with { Dims = null });
                }

                return;
            case "Tile":
                var repeats = c.ConstInts(node.Input[1]);
                c.Set(node.Output[0], x.Dims is null || repeats is null ? x with { Dims = null }
                    : x with { Dims = x.Dims.Select((d, i) => d.IsKnown ? Dim.Of(d.Value * repeats[i]) : repeats[i] == 1 ? d : Dim.Unknown).ToArray() });
                return;
            case "ConstantOfShape":
                var valueType = node.Attribute.FirstOrDefault(a => a.Name == "value")?.T?.DataType ?? Float;
                c.Set(node.Output[0], new TensorShape(valueType, c.Value(node.Input[0])));
                return;
            case "GatherElements":
            case "ScatterElements":
            case "ScatterND":
                c.Set(node.Output[0], op == "GatherElements" ? x with { Dims = c.Get(node.Input[1]).Dims } : x);
                return;
            case "OneHot":
                var depth = c.ConstInts(node.Input[1]) ?? c.ConstFloats(node.Input[1])?.Select(f => (long)f).ToArray();
                var indices = c.Get(node.Input[0]);
                if (indices.Dims is not null && depth is { Length: 1 })
                {
                    var axis = (int)Attr.Int(node, "axis", -1);
                    var dims = indices.Dims.ToList();
                    dims.Insert(axis < 0 ? dims.Count + axis + 1 : axis, Dim.Of(depth[0]));
                    c.Set(node.Output[0], new TensorShape(c.Get(node.Input[2]).ElementType, [.. dims]));
                }

                return;
        }
    }

    private static Dim[]? Broadcast(IReadOnlyList<Dim[]?> shapes)
    {
        if (shapes.Any(s => s is null))
        {
            return null;
        }

        var rank = shapes.Max(s => s!.Length);
        var result = new Dim[rank];
        for (var i = 0; i < rank; i++)
        {
            Dim? chosen = null;
            foreach (var s in shapes)
            {
                var j = i - (rank - s!.Length);
                if (j < 0)
                {
                    continue;
                }

                var d = s[j];
                if (d.IsKnown && d.Value == 1)
                {
                    chosen ??= d;
                    continue;
                }

                if (chosen is null || (chosen.Value.IsKnown && chosen.Value.Value == 1))
                {
                    chosen = d;
                }
                else if (!chosen.Value.IsKnown && d.IsKnown)
                {
                    chosen = d;
                }
            }

            result[i] = chosen ?? Dim.Of(1);
        }

        return result;
    }

    private static void FoldArithmetic(NodeProto node, ShapeContext c)
    {
        if (node.Input.Count != 2 || c.Value(node.Input[0]) is not { } a || c.Value(node.Input[1]) is not { } b)
        {
            return;
        }

        var n = Math.Max(a.Length, b.Length);
        if (a.Length != n && a.Length != 1 || b.Length != n && b.Length != 1)
        {
            return;
        }

        var result = new Dim[n];
        for (var i = 0; i < n; i++)
        {
            var x = a[a.Length == 1 ? 0 : i];
            var y = b[b.Length == 1 ? 0 : i];
            if (!x.IsKnown || !y.IsKnown)
            {
                // batch * 1, batch / 1 keep the symbol.
                result[i] = node.OpType is "Mul" or "Div" && y.IsKnown && y.Value == 1 ? x : node.OpType == "Mul" && x.IsKnown && x.Value == 1 ? y : Dim.Unknown;
                continue;
            }

            result[i] = node.OpType switch
            {
                "Add" => Dim.Of(x.Value + y.Value),
                "Sub" => Dim.Of(x.Value - y.Value),
                "Mul" => Dim.Of(x.Value * y.Value),
                "Div" when y.Value != 0 => Dim.Of(x.Value / y.Value),
                _ => Dim.Unknown,
            };
        }

        c.SetValue(node.Output[0], result);
    }

    private static long[] Spatial(NodeProto node, string name, int count, long fallback)
    {
        var values = Attr.Ints(node, name);
        return values.Length == count ? values : Enumerable.Repeat(fallback, count).ToArray();
    }

    private static Dim[] SpatialOut(NodeProto node, Dim[] input, long[] kernel, bool ceil)
    {
        var n = kernel.Length;
        var strides = Spatial(node, "strides", n, 1);
        var dilations = Spatial(node, "dilations", n, 1);
        var pads = Attr.Ints(node, "pads");
        if (pads.Length != 2 * n)
        {
            pads = new long[2 * n];
        }

        var autoPad = Attr.String(node, "auto_pad", "NOTSET");
        var result = new Dim[n];
        for (var i = 0; i < n; i++)
        {
            var d = input[i];
            if (!d.IsKnown)
            {
                result[i] = Dim.Unknown;
                continue;
            }

            var effective = (dilations[i] * (kernel[i] - 1)) + 1;
            long size;
            if (autoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                size = (d.Value + strides[i] - 1) / strides[i];
            }
            else if (autoPad == "VALID")
            {
                size = (long)Math.Floor((d.Value - effective) / (double)strides[i]) + 1;
            }
            else
            {
                var span = d.Value + pads[i] + pads[i + n] - effective;
                size = ceil ? (long)Math.Ceiling(span / (double)strides[i]) + 1 : (long)Math.Floor(span / (double)strides[i]) + 1; // floor: a window larger than the input gives 0
                // With ceil_mode a last window that would start inside the end padding is dropped.
                if (ceil && (size - 1) * strides[i] >= d.Value + pads[i])
                {
                    size--;
                }
            }

            result[i] = Dim.Of(size);
        }

        return result;
    }

    private static void Conv(NodeProto node, ShapeContext c, TensorShape x)
    {
        var w = c.Get(node.Input[1]);
        if (x.Dims is null || x.Dims.Length < 3)
        {
            c.Set(node.Output[0], new TensorShape(x.ElementType, null));
            return;
        }

        var n = x.Dims.Length - 2;
        var kernel = Attr.Ints(node, "kernel_shape");
        if (kernel.Length != n)
        {
            kernel = w.Dims is { } wd && wd.Length == n + 2 && wd.Skip(2).All(d => d.IsKnown) ? wd.Skip(2).Select(d => d.Value).ToArray() : [];
        }

        var channels = w.Dims is { Length: > 0 } ? w.Dims[0] : Dim.Unknown;
        var spatial = kernel.Length == n ? SpatialOut(node, x.Dims[2..], kernel, ceil: false) : Enumerable.Repeat(Dim.Unknown, n).ToArray();
        c.Set(node.Output[0], new TensorShape(node.OpType == "ConvInteger" ? (int)TensorProto.Types.DataType.Int32 : x.ElementType, [x.Dims[0], channels, .. spatial]));
    }

    private static void ConvTranspose(NodeProto node, ShapeContext c, TensorShape x)
    {
        var w = c.Get(node.Input[1]);
        if (x.Dims is null || w.Dims is null || x.Dims.Length < 3)
        {
            c.Set(node.Output[0], new TensorShape(x.ElementType, null));
            return;
        }

        var n = x.Dims.Length - 2;
        var group = Attr.Int(node, "group", 1);
        var channels = w.Dims[1].IsKnown ? Dim.Of(w.Dims[1].Value * group) : Dim.Unknown;
        var outputShape = Attr.Ints(node, "output_shape");
        if (outputShape.Length == n)
        {
            c.Set(node.Output[0], new TensorShape(x.ElementType, [x.Dims[0], channels, .. outputShape.Select(Dim.Of)]));
            return;
        }

        if (Attr.String(node, "auto_pad", "NOTSET") is "SAME_UPPER" or "SAME_LOWER")
        {
            var s = Spatial(node, "strides", n, 1);
            c.Set(node.Output[0], new TensorShape(x.ElementType, [x.Dims[0], channels, .. x.Dims[2..].Select((d, i) => d.IsKnown ? Dim.Of(d.Value * s[i]) : Dim.Unknown)]));
            return;
        }

        var kernel = Attr.Ints(node, "kernel_shape");
        if (kernel.Length != n)
        {
            kernel = w.Dims.Skip(2).Select(d => d.Value).ToArray();
        }

        var strides = Spatial(node, "strides", n, 1);
        var dilations = Spatial(node, "dilations", n, 1);
        var outputPadding = Spatial(node, "output_padding", n, 0);
        var pads = Attr.Ints(node, "pads");
        if (pads.Length != 2 * n)
        {
            pads = new long[2 * n];
        }

        var spatial = new Dim[n];
        for (var i = 0; i < n; i++)
        {
            var d = x.Dims[2 + i];
            spatial[i] = d.IsKnown && kernel[i] >= 0
                ? Dim.Of((strides[i] * (d.Value - 1)) + outputPadding[i] + ((kernel[i] - 1) * dilations[i]) + 1 - pads[i] - pads[i + n])
                : Dim.Unknown;
        }

        c.Set(node.Output[0], new TensorShape(x.ElementType, [x.Dims[0], channels, .. spatial]));
    }

    private static void Pool(NodeProto node, ShapeContext c, TensorShape x)
    {
        if (x.Dims is null || x.Dims.Length < 3)
        {
            c.Set(node.Output[0], x with { Dims = null });
            return;
        }

        var kernel = Attr.Ints(node, "kernel_shape");
        var spatial = SpatialOut(node, x.Dims[2..], kernel, Attr.Int(node, "ceil_mode", 0) != 0);
        var shape = x with { Dims = [x.Dims[0], x.Dims[1], .. spatial] };
        c.Set(node.Output[0], shape);
        if (node.Output.Count > 1)
        {
            c.Set(node.Output[1], shape with { ElementType = Int64 });
        }
    }

    /// <summary>MaxUnpool: the output_shape input where it is given (and folded), else (in − 1)·stride + kernel − pads per axis.</summary>
    private static void MaxUnpool(NodeProto node, ShapeContext c, TensorShape x)
    {
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            c.Set(node.Output[0], new TensorShape(x.ElementType, c.Value(node.Input[2])));
            return;
        }

        if (x.Dims is null || x.Dims.Length < 3)
        {
            c.Set(node.Output[0], x with { Dims = null });
            return;
        }

        var kernel = Attr.Ints(node, "kernel_shape");
        var rank = x.Dims.Length - 2;
        var strides = Attr.Ints(node, "strides") is { Length: > 0 } s ? s : Enumerable.Repeat(1L, rank).ToArray();
        var pads = Attr.Ints(node, "pads") is { Length: > 0 } p ? p : new long[2 * rank];
        var spatial = x.Dims[2..].Select((d, i) => d.IsKnown && i < kernel.Length
            ? Dim.Of(((d.Value - 1) * strides[i]) + kernel[i] - pads[i] - pads[i + rank]) : Dim.Unknown);
        c.Set(node.Output[0], x with { Dims = [x.Dims[0], x.Dims[1], .. spatial] });
    }

    private static void Gemm(NodeProto node, ShapeContext c, TensorShape a)
    {
        var b = c.Get(node.Input[1]);
        if (a.Dims is not { Length: 2 } || b.Dims is not { Length: 2 })
        {
            c.Set(node.Output[0], a with { Dims = null });
            return;
        }

        var m = Attr.Int(node, "transA", 0) != 0 ? a.Dims[1] : a.Dims[0];
        var n = Attr.Int(node, "transB", 0) != 0 ? b.Dims[0] : b.Dims[1];
        c.Set(node.Output[0], a with { Dims = [m, n] });
    }

    private static void MatMul(NodeProto node, ShapeContext c, TensorShape a)
    {
        var b = c.Get(node.Input[1]);
        if (a.Dims is null || b.Dims is null || a.Dims.Length == 0 || b.Dims.Length == 0)
        {
            c.Set(node.Output[0], a with { Dims = null });
            return;
        }

        var left = a.Dims.Length == 1 ? [Dim.Of(1), a.Dims[0]] : a.Dims;
        var right = b.Dims.Length == 1 ? [b.Dims[0], Dim.Of(1)] : b.Dims;
        var batch = Broadcast([left[..^2], right[..^2]])!;
        var dims = new List<Dim>(batch);
        if (a.Dims.Length > 1)
        {
            dims.Add(left[^2]);
        }

        if (b.Dims.Length > 1)
        {
            dims.Add(right[^1]);
        }

        c.Set(node.Output[0], a with { Dims = [.. dims] });
    }

    private static void Flatten(NodeProto node, ShapeContext c, TensorShape x)
    {
        if (x.Dims is null)
        {
            c.Set(node.Output[0], x);
            return;
        }

        var axis = (int)Attr.Int(node, "axis", 1);
        if (axis < 0)
        {
            axis += x.Dims.Length;
        }

        c.Set(node.Output[0], x with { Dims = [Product(x.Dims[..axis]), Product(x.Dims[axis..])] });
    }

    private static Dim Product(IReadOnlyList<Dim> dims)
    {
        if (dims.Count == 1)
        {
            return dims[0];
        }

        return dims.All(d => d.IsKnown) ? Dim.Of(dims.Aggregate(1L, (p, d) => p * d.Value)) : Dim.Unknown;
    }

    private static void Reshape(NodeProto node, ShapeContext c, TensorShape x)
    {
        var target = node.Input.Count > 1 ? c.Value(node.Input[1]) ?? c.ConstInts(node.Input[1])?.Select(Dim.Of).ToArray()
            : Attr.Ints(node, "shape").Select(Dim.Of).ToArray();
        if (target is null)
        {
            c.Set(node.Output[0], x with { Dims = null });
            return;
        }

        var allowZero = Attr.Int(node, "allowzero", 0) != 0;
        var dims = new Dim[target.Length];
        for (var i = 0; i < target.Length; i++)
        {
            var t = target[i];
            dims[i] = t.IsKnown && t.Value == 0 && !allowZero
                ? (x.Dims is not null && i < x.Dims.Length ? x.Dims[i] : Dim.Unknown)
                : t;
        }

        // A -1 folds to an unknown dimension without a symbol; when there is exactly one, infer it
        // by cancelling what both sides share (known sizes and equal symbols).
        var open = Enumerable.Range(0, dims.Length).Where(i => !dims[i].IsKnown && dims[i].Symbol is null).ToList();
        if (open.Count == 1)
        {
            dims[open[0]] = InferMinusOne(x.Dims, dims, open[0]);
        }

        c.Set(node.Output[0], x with { Dims = dims });
        if (c.Value(node.Input[0]) is { } v && dims.Length <= 1)
        {
            c.SetValue(node.Output[0], v);
        }
    }

    private static Dim InferMinusOne(Dim[]? input, Dim[] dims, int at)
    {
        if (input is null)
        {
            return Dim.Unknown;
        }

        var inputSymbols = input.Where(d => !d.IsKnown).Select(d => d.Symbol).ToList();
        long known = 1;
        foreach (var d in input.Where(d => d.IsKnown))
        {
            known *= d.Value;
        }

        long other = 1;
        for (var i = 0; i < dims.Length; i++)
        {
            if (i == at)
            {
                continue;
            }

            if (dims[i].IsKnown)
            {
                other *= dims[i].Value;
            }
            else if (dims[i].Symbol is { } s && inputSymbols.Remove(s))
            {
                // cancels with the input's symbol
            }
            else
            {
                return Dim.Unknown;
            }
        }

        if (inputSymbols.Count == 0 && other != 0 && known % other == 0)
        {
            return Dim.Of(known / other);
        }

        return inputSymbols.Count == 1 && inputSymbols[0] is { } sym && known == other ? Dim.Sym(sym) : Dim.Unknown;
    }

    private static void Transpose(NodeProto node, ShapeContext c, TensorShape x)
    {
        if (x.Dims is null)
        {
            c.Set(node.Output[0], x);
            return;
        }

        var perm = Attr.Ints(node, "perm");
        if (perm.Length != x.Dims.Length)
        {
            perm = Enumerable.Range(0, x.Dims.Length).Reverse().Select(i => (long)i).ToArray();
        }

        c.Set(node.Output[0], x with { Dims = perm.Select(p => x.Dims[p]).ToArray() });
    }

    private static long[]? Axes(NodeProto node, ShapeContext c, int inputIndex) =>
        node.Input.Count > inputIndex && node.Input[inputIndex].Length > 0 ? c.ConstInts(node.Input[inputIndex])
            : node.Attribute.Any(a => a.Name == "axes") ? Attr.Ints(node, "axes") : [];

    private static void Squeeze(NodeProto node, ShapeContext c, TensorShape x)
    {
        var axes = Axes(node, c, 1);
        if (x.Dims is null || axes is null)
        {
            c.Set(node.Output[0], x with { Dims = null });
            return;
        }

        var rank = x.Dims.Length;
        var remove = axes.Length == 0
            ? Enumerable.Range(0, rank).Where(i => x.Dims[i].IsKnown && x.Dims[i].Value == 1).ToHashSet()
            : axes.Select(a => (int)(a < 0 ? a + rank : a)).ToHashSet();
        c.Set(node.Output[0], x with { Dims = x.Dims.Where((_, i) => !remove.Contains(i)).ToArray() });
        if (c.Value(node.Input[0]) is { } v)
        {
            c.SetValue(node.Output[0], v);
        }
    }

    private static void Unsqueeze(NodeProto node, ShapeContext c, TensorShape x)
    {
        var axes = Axes(node, c, 1);
        if (x.Dims is null || axes is null)
        {
            c.Set(node.Output[0], x with { Dims = null });
            return;
        }

        var rank = x.Dims.Length + axes.Length;
        var positions = axes.Select(a => (int)(a < 0 ? a + rank : a)).ToHashSet();
        var dims = new Dim[rank];
        var j = 0;
        for (var i = 0; i < rank; i++)
        {
            dims[i] = positions.Contains(i) ? Dim.Of(1) : x.Dims[j++];
        }

        c.Set(node.Output[0], x with { Dims = dims });
        if (c.Value(node.Input[0]) is { } v)
        {
            c.SetValue(node.Output[0], v);
        }
    }

    private static void Concat(NodeProto node, ShapeContext c)
    {
        var inputs = node.Input.Where(i => i.Length > 0).Select(c.Get).ToList();
        var first = inputs[0];
        if (inputs.Any(s => s.Dims is null))
        {
            c.Set(node.Output[0], first with { Dims = null });
            return;
        }

        var rank = first.Dims!.Length;
        var axis = (int)Attr.Int(node, "axis", 0);
        if (axis < 0)
        {
            axis += rank;
        }

        var dims = first.Dims.ToArray();
        dims[axis] = inputs.All(s => s.Dims![axis].IsKnown) ? Dim.Of(inputs.Sum(s => s.Dims![axis].Value)) : Dim.Unknown;
        c.Set(node.Output[0], first with { Dims = dims });
        var values = node.Input.Where(i => i.Length > 0).Select(c.Value).ToList();
        if (values.All(v => v is not null))
        {
            c.SetValue(node.Output[0], values.SelectMany(v => v!).ToArray());
        }
    }

    private static void Split(NodeProto node, ShapeContext c, TensorShape x)
    {
        var count = node.Output.Count;
        if (x.Dims is null)
        {
            foreach (var o in node.Output)
            {
                c.Set(o, x);
            }

            return;
        }

        var axis = (int)Attr.Int(node, "axis", 0);
        if (axis < 0)
        {
            axis += x.Dims.Length;
        }

        var sizes = node.Input.Count > 1 && node.Input[1].Length > 0 ? c.ConstInts(node.Input[1]) : Attr.Ints(node, "split") is { Length: > 0 } s ? s : null;
        for (var i = 0; i < count; i++)
        {
            var dims = x.Dims.ToArray();
            if (sizes is not null && sizes.Length == count)
            {
                dims[axis] = Dim.Of(sizes[i]);
            }
            else if (x.Dims[axis].IsKnown)
            {
                var total = x.Dims[axis].Value;
                var chunk = (total + count - 1) / count;
                dims[axis] = Dim.Of(i < count - 1 ? chunk : total - (chunk * (count - 1)));
            }
            else
            {
                dims[axis] = Dim.Unknown;
            }

            c.Set(node.Output[i], x with { Dims = dims });
        }
    }

    private static void Pad(NodeProto node, ShapeContext c, TensorShape x)
    {
        var pads = node.Input.Count > 1 && node.Input[1].Length > 0 ? c.ConstInts(node.Input[1]) : Attr.Ints(node, "pads");
        if (x.Dims is null || pads is null)
        {
            c.Set(node.Output[0], x with { Dims = null });
            return;
        }

        var rank = x.Dims.Length;
        var axes = node.Input.Count > 3 && node.Input[3].Length > 0 ? c.ConstInts(node.Input[3]) : Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        if (axes is null || pads.Length != 2 * axes.Length)
        {
            c.Set(node.Output[0], x with { Dims = null });
            return;
        }

        var dims = x.Dims.ToArray();
        for (var i = 0; i < axes.Length; i++)
        {
            var a = (int)(axes[i] < 0 ? axes[i] + rank : axes[i]);
            dims[a] = dims[a].IsKnown ? Dim.Of(dims[a].Value + pads[i] + pads[i + axes.Length]) : Dim.Unknown;
        }

        c.Set(node.Output[0], x with { Dims = dims });
    }

    private static void Resize(NodeProto node, ShapeContext c, TensorShape x)
    {
        if (x.Dims is null)
        {
            c.Set(node.Output[0], x);
            return;
        }

        // Upsample (opset 7-9): scales attribute or input 1; Resize 10: scales input 1; 11+: roi, scales, sizes.
        long[]? sizes = node.OpType == "Resize" && node.Input.Count > 3 && node.Input[3].Length > 0 ? c.ConstInts(node.Input[3]) : null;
        var scaleInput = node.OpType == "Upsample" || c.Opset == 10 ? 1 : 2;
        var scales = sizes is null && node.Input.Count > scaleInput && node.Input[scaleInput].Length > 0 ? c.ConstFloats(node.Input[scaleInput])
            : node.Attribute.Any(a => a.Name == "scales") ? node.Attribute.First(a => a.Name == "scales").Floats.ToArray() : null;
        if (sizes is { } s && s.Length == x.Dims.Length)
        {
            c.Set(node.Output[0], x with { Dims = s.Select(Dim.Of).ToArray() });
        }
        else if (scales is { } f && f.Length == x.Dims.Length)
        {
            c.Set(node.Output[0], x with { Dims = x.Dims.Select((d, i) => d.IsKnown ? Dim.Of((long)Math.Floor(d.Value * (double)f[i])) : f[i] == 1 ? d : Dim.Unknown).ToArray() });
        }
        else
        {
            c.Set(node.Output[0], x with { Dims = x.Dims.Select(_ => Dim.Unknown).ToArray() });
        }
    }

    private static void Reduce(NodeProto node, ShapeContext c, TensorShape x)
    {
        var isArg = node.OpType.StartsWith("Arg", StringComparison.Ordinal);
        var axesFromInput = !isArg && (node.OpType == "ReduceSum" ? c.Opset >= 13 : c.Opset >= 18);
        long[]? axes = isArg ? [Attr.Int(node, "axis", 0)] : axesFromInput ? (node.Input.Count > 1 && node.Input[1].Length > 0 ? c.ConstInts(node.Input[1]) : []) : Attr.Ints(node, "axes");
        var keep = Attr.Int(node, "keepdims", 1) != 0;
        var type = isArg ? Int64 : x.ElementType;
        if (x.Dims is null || axes is null)
        {
            c.Set(node.Output[0], new TensorShape(type, null));
            return;
        }

        var rank = x.Dims.Length;
        var set = axes.Length == 0
            ? (Attr.Int(node, "noop_with_empty_axes", 0) != 0 ? [] : Enumerable.Range(0, rank).ToHashSet())
            : axes.Select(a => (int)(a < 0 ? a + rank : a)).ToHashSet();
        var dims = new List<Dim>();
        for (var i = 0; i < rank; i++)
        {
            if (!set.Contains(i))
            {
                dims.Add(x.Dims[i]);
            }
            else if (keep)
            {
                dims.Add(Dim.Of(1));
            }
        }

        c.Set(node.Output[0], new TensorShape(type, [.. dims]));
    }

    private static void ShapeOp(NodeProto node, ShapeContext c, TensorShape x)
    {
        if (x.Dims is null)
        {
            c.Set(node.Output[0], new TensorShape(Int64, [Dim.Unknown]));
            return;
        }

        var rank = x.Dims.Length;
        var start = (int)Attr.Int(node, "start", 0);
        var end = (int)Attr.Int(node, "end", rank);
        start = Math.Clamp(start < 0 ? start + rank : start, 0, rank);
        end = Math.Clamp(end < 0 ? end + rank : end, 0, rank);
        var value = x.Dims[start..Math.Max(start, end)];
        c.Set(node.Output[0], new TensorShape(Int64, [Dim.Of(value.Length)]));
        c.SetValue(node.Output[0], value);
    }

    private static void Gather(NodeProto node, ShapeContext c, TensorShape data)
    {
        var indices = c.Get(node.Input[1]);
        if (data.Dims is null || indices.Dims is null)
        {
            c.Set(node.Output[0], data with { Dims = null });
            return;
        }

        var rank = data.Dims.Length;
        var axis = (int)Attr.Int(node, "axis", 0);
        if (axis < 0)
        {
            axis += rank;
        }

        c.Set(node.Output[0], data with { Dims = [.. data.Dims[..axis], .. indices.Dims, .. data.Dims[(axis + 1)..]] });
        if (axis == 0 && c.Value(node.Input[0]) is { } v && c.ConstInts(node.Input[1]) is { } idx)
        {
            c.SetValue(node.Output[0], idx.Select(i => v[(int)(i < 0 ? i + v.Length : i)]).ToArray());
        }
    }

    private static void Slice(NodeProto node, ShapeContext c, TensorShape x)
    {
        long[]? starts, ends, axes, steps;
        if (c.Opset < 10 || node.Input.Count == 1)
        {
            starts = Attr.Ints(node, "starts");
            ends = Attr.Ints(node, "ends");
            axes = node.Attribute.Any(a => a.Name == "axes") ? Attr.Ints(node, "axes") : null;
            steps = null;
        }
        else
        {
            starts = c.ConstInts(node.Input[1]);
            ends = c.ConstInts(node.Input[2]);
            axes = node.Input.Count > 3 && node.Input[3].Length > 0 ? c.ConstInts(node.Input[3]) : null;
            steps = node.Input.Count > 4 && node.Input[4].Length > 0 ? c.ConstInts(node.Input[4]) : null;
            if ((node.Input.Count > 3 && node.Input[3].Length > 0 && axes is null) || (node.Input.Count > 4 && node.Input[4].Length > 0 && steps is null))
            {
                starts = null;
            }
        }

        if (x.Dims is null || starts is null || ends is null)
        {
            c.Set(node.Output[0], x with { Dims = x.Dims?.Select(_ => Dim.Unknown).ToArray() });
            return;
        }

        var rank = x.Dims.Length;
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        var dims = x.Dims.ToArray();
        var ranges = new (long Start, long End, long Step)?[rank];
        for (var i = 0; i < axes.Length; i++)
        {
            var a = (int)(axes[i] < 0 ? axes[i] + rank : axes[i]);
            if (!dims[a].IsKnown)
            {
                dims[a] = Dim.Unknown;
                continue;
            }

            var (s, e, st) = Clamp(starts[i], ends[i], steps[i], dims[a].Value);
            ranges[a] = (s, e, st);
            dims[a] = Dim.Of(Math.Max(0, st > 0 ? (e - s + st - 1) / st : (s - e - st - 1) / -st));
        }

        c.Set(node.Output[0], x with { Dims = dims });
        if (rank == 1 && c.Value(node.Input[0]) is { } v && ranges[0] is { } r)
        {
            var taken = new List<Dim>();
            for (var i = r.Start; r.Step > 0 ? i < r.End : i > r.End; i += r.Step)
            {
                taken.Add(v[(int)i]);
            }

            c.SetValue(node.Output[0], [.. taken]);
        }
    }

    private static (long Start, long End, long Step) Clamp(long start, long end, long step, long size)
    {
        if (start < 0)
        {
            start += size;
        }

        if (end < 0)
        {
            end += size;
        }

        if (step > 0)
        {
            start = Math.Clamp(start, 0, size);
            end = Math.Clamp(end, 0, size);
        }
        else
        {
            start = Math.Clamp(start, 0, size - 1);
            end = Math.Clamp(end, -1, size - 1);
        }

        return (start, end, step == 0 ? 1 : step);
    }
}
