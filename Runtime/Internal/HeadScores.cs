namespace OnnxCnn.Runtime.Internal;

/// <summary>What a classifier's output holds, read from the operator that produces it.</summary>
internal enum HeadKind
{
    /// <summary>Raw scores: softmax turns a row into probabilities (one column: a binary logit, sigmoid).</summary>
    Logits,
    /// <summary>The model ends in Softmax: rows are probabilities already.</summary>
    Softmax,
    /// <summary>The model ends in LogSoftmax: exp of a row.</summary>
    LogSoftmax,
    /// <summary>The model ends in Sigmoid: one column is P(class 1); several are independent (multi-label) probabilities.</summary>
    Sigmoid,
}

/// <summary>Output rows to probabilities, and the top-k of a probability row.</summary>
internal static class HeadScores
{
    /// <summary>
    /// The class probabilities of one output row. One column is a binary model (finetune
    /// <c>--loss bce</c>): [1 − p, p] with p = P(class 1), the column itself after a Sigmoid, else its
    /// sigmoid. A logits row that already is a distribution (every value in [0, 1], summing to 1) is
    /// kept: its Softmax sits behind operators the head reader does not look through.
    /// </summary>
    public static float[] Probabilities(ReadOnlySpan<float> row, HeadKind kind)
    {
        if (row.Length == 1)
        {
            var p = kind == HeadKind.Sigmoid ? row[0] : 1f / (1f + MathF.Exp(-row[0]));
            return [1 - p, p];
        }

        switch (kind)
        {
            case HeadKind.Softmax or HeadKind.Sigmoid:
                return row.ToArray();
            case HeadKind.LogSoftmax:
                var exp = new float[row.Length];
                for (var i = 0; i < row.Length; i++)
                {
                    exp[i] = MathF.Exp(row[i]);
                }

                return exp;
            default:
                return IsDistribution(row) ? row.ToArray() : Softmax(row);
        }
    }

    /// <summary>Softmax with the maximum subtracted first; the sum is taken in double.</summary>
    public static float[] Softmax(ReadOnlySpan<float> row)
    {
        var max = float.NegativeInfinity;
        foreach (var v in row)
        {
            max = Math.Max(max, v);
        }

        var result = new float[row.Length];
        var total = 0.0;
        for (var i = 0; i < row.Length; i++)
        {
            total += result[i] = MathF.Exp(row[i] - max);
        }

        for (var i = 0; i < row.Length; i++)
        {
            result[i] = (float)(result[i] / total);
        }

        return result;
    }

    /// <summary>The <paramref name="count"/> most probable classes, most probable first; ties by class index.</summary>
    public static Prediction[] Top(ReadOnlySpan<float> probabilities, int count, IReadOnlyList<string> labels)
    {
        var order = new int[probabilities.Length];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        var p = probabilities.ToArray();
        Array.Sort(order, (a, b) => p[a] != p[b] ? p[b].CompareTo(p[a]) : a.CompareTo(b));
        var result = new Prediction[Math.Min(count, order.Length)];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = new Prediction(labels[order[i]], order[i], p[order[i]]);
        }

        return result;
    }

    private static bool IsDistribution(ReadOnlySpan<float> row)
    {
        var sum = 0.0;
        foreach (var v in row)
        {
            if (v is not (>= 0 and <= 1))
            {
                return false;
            }

            sum += v;
        }

        return Math.Abs(sum - 1) < 1e-3;
    }
}
