using OnnxCnn.Graphs;
using OnnxCnn.TestUtilities;

namespace OnnxCnn.Runtime.Tests;

/// <summary>ONNX's own operator conformance data, run through our binding and compared with ONNX's expected outputs.</summary>
public class ConformanceTests
{
    // ONNX's backend test defaults for node tests.
    private const double RelativeTolerance = 1e-3;
    private const double AbsoluteTolerance = 1e-7;

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _) in ConformanceCases.All)
        {
            data.Add(name);
        }

        if (data.Count == 0)
        {
            data.Add("<libonnx-testdata missing>");
        }

        return data;
    }

    [Fact]
    public void Conformance_DataInstalled_CoversEveryOperator()
    {
        Assert.True(Directory.Exists(ConformanceCases.Root),
            $"{ConformanceCases.Root} is missing: install Debian's libonnx-testdata (apt-get install -y libonnx-testdata; the test build does this when run as root).");
        var covered = ConformanceCases.All.Select(c => c.Op).ToHashSet();
        var uncovered = ConformanceCases.Operators.Where(op => !covered.Contains(op)).Order().ToList();
        Assert.True(uncovered.Count == 0, "operators without a conformance case: " + string.Join(", ", uncovered));
        Assert.True(ConformanceCases.All.Count >= 250, $"only {ConformanceCases.All.Count} cases found");
    }

    [Fact]
    public void Conformance_KnownFailures_AreAllSelectedCases()
    {
        var names = ConformanceCases.All.Select(c => c.Name).ToHashSet();
        Assert.All(ConformanceCases.KnownFailures.Keys, k => Assert.Contains(k, names));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Conformance_Case_MatchesExpectedOutputs(string name)
    {
        Assert.True(Directory.Exists(ConformanceCases.Root), $"{ConformanceCases.Root} is missing: apt-get install -y libonnx-testdata");
        var failure = RunCase(Path.Combine(ConformanceCases.Root, name));
        if (ConformanceCases.KnownFailures.TryGetValue(name, out var reason))
        {
            Assert.True(failure is not null, $"{name} is listed as a known failure ({reason}) but now passes: remove it from the list.");
            return;
        }

        Assert.True(failure is null, $"{name}: {failure}");
    }

    /// <summary>Runs every data set of a case; returns null when all match, else what went wrong.</summary>
    private static string? RunCase(string dir)
    {
        InferenceSession session;
        try
        {
            session = InferenceSession.Open(Path.Combine(dir, "model.onnx"));
        }
        catch (OnnxRuntimeException e)
        {
            return "load failed: " + e.Message;
        }

        using (session)
        {
            foreach (var set in Directory.GetDirectories(dir, "test_data_set_*").Order(StringComparer.Ordinal))
            {
                var inputs = new List<KeyValuePair<string, Tensor>>();
                try
                {
                    for (var i = 0; File.Exists(Path.Combine(set, $"input_{i}.pb")); i++)
                    {
                        if (i >= session.Inputs.Count)
                        {
                            return $"{Path.GetFileName(set)} has more inputs than the model";
                        }

                        inputs.Add(new(session.Inputs[i].Name, TensorConversion.ToTensor(TensorData.ReadFile(Path.Combine(set, $"input_{i}.pb")))));
                    }

                    using var result = session.Run(inputs);
                    for (var o = 0; File.Exists(Path.Combine(set, $"output_{o}.pb")); o++)
                    {
                        var expected = TensorData.ReadFile(Path.Combine(set, $"output_{o}.pb"));
                        var mismatch = Compare(result[o].Value, expected);
                        if (mismatch is not null)
                        {
                            return $"{Path.GetFileName(set)} output {o} ({result[o].Key}): {mismatch}";
                        }
                    }
                }
                catch (Exception e) when (e is OnnxRuntimeException or ArgumentException or NotSupportedException or InvalidDataException or OverflowException)
                {
                    return $"{Path.GetFileName(set)}: {e.GetType().Name}: {e.Message}";
                }
                finally
                {
                    foreach (var (_, t) in inputs)
                    {
                        t.Dispose();
                    }
                }
            }
        }

        return null;
    }

    private static string? Compare(Tensor actual, TensorData expected)
    {
        if ((int)actual.ElementType != expected.DataType)
        {
            return $"type {actual.ElementType.Name()}, expected {((TensorElementType)expected.DataType).Name()}";
        }

        if (!actual.Shape.SequenceEqual(expected.Dims))
        {
            return $"shape {actual.ShapeText}, expected {Tensor.FormatShape(expected.Dims)}";
        }

        using var want = TensorConversion.ToTensor(expected);
        var a = ToDoubles(actual);
        var b = ToDoubles(want);
        for (var i = 0; i < a.Length; i++)
        {
            if (double.IsNaN(a[i]) && double.IsNaN(b[i]))
            {
                continue;
            }

            if (!(Math.Abs(a[i] - b[i]) <= AbsoluteTolerance + (RelativeTolerance * Math.Abs(b[i]))))
            {
                return $"element {i}: {a[i]} vs expected {b[i]}";
            }
        }

        return null;
    }

    private static double[] ToDoubles(Tensor t) => t switch
    {
        Tensor<float> f => f.Span.ToArray().Select(v => (double)v).ToArray(),
        Tensor<double> d => d.Span.ToArray(),
        Tensor<Half> h => h.Span.ToArray().Select(v => (double)v).ToArray(),
        Tensor<long> l => l.Span.ToArray().Select(v => (double)v).ToArray(),
        Tensor<int> i => i.Span.ToArray().Select(v => (double)v).ToArray(),
        Tensor<short> s => s.Span.ToArray().Select(v => (double)v).ToArray(),
        Tensor<sbyte> s => s.Span.ToArray().Select(v => (double)v).ToArray(),
        Tensor<byte> b => b.Span.ToArray().Select(v => (double)v).ToArray(),
        Tensor<ushort> u => u.Span.ToArray().Select(v => (double)v).ToArray(),
        Tensor<uint> u => u.Span.ToArray().Select(v => (double)v).ToArray(),
        Tensor<ulong> u => u.Span.ToArray().Select(v => (double)v).ToArray(),
        Tensor<bool> b => b.Span.ToArray().Select(v => v ? 1.0 : 0.0).ToArray(),
        _ => throw new NotSupportedException(t.ElementType.Name()),
    };
}
