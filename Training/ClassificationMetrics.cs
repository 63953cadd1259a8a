namespace OnnxCnn.Training;

/// <summary>Classification metrics from predictions: accuracy, top-k, per-class precision/recall/F1, macro averages, confusion matrix.</summary>
public sealed class ClassificationMetrics
{
    private ClassificationMetrics(IReadOnlyList<string> labels, long[,] confusion, double topK, int k)
    {
        Labels = labels;
        Confusion = confusion;
        TopKAccuracy = topK;
        K = k;
        var n = labels.Count;
        long total = 0, correct = 0;
        var perClass = new List<ClassMetrics>();
        for (var c = 0; c < n; c++)
        {
            long tp = confusion[c, c], predicted = 0, actual = 0;
            for (var o = 0; o < n; o++)
            {
                predicted += confusion[o, c];
                actual += confusion[c, o];
            }

            total += actual;
            correct += tp;
            var precision = predicted == 0 ? 0 : (double)tp / predicted;
            var recall = actual == 0 ? 0 : (double)tp / actual;
            var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            perClass.Add(new ClassMetrics(labels[c], precision, recall, f1, (int)actual));
        }

        PerClass = perClass;
        Accuracy = total == 0 ? 0 : (double)correct / total;
        Count = (int)total;
    }

    /// <summary>Class names (row/column order of the confusion matrix).</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Confusion matrix: [true class, predicted class] counts.</summary>
    public long[,] Confusion { get; }

    /// <summary>Samples counted.</summary>
    public int Count { get; }

    /// <summary>Top-1 accuracy.</summary>
    public double Accuracy { get; }

    /// <summary>Top-k accuracy for <see cref="K"/>.</summary>
    public double TopKAccuracy { get; }

    /// <summary>The k of <see cref="TopKAccuracy"/>.</summary>
    public int K { get; }

    /// <summary>Per-class metrics.</summary>
    public IReadOnlyList<ClassMetrics> PerClass { get; }

    /// <summary>Unweighted mean of per-class precision.</summary>
    public double MacroPrecision => PerClass.Average(c => c.Precision);

    /// <summary>Unweighted mean of per-class recall.</summary>
    public double MacroRecall => PerClass.Average(c => c.Recall);

    /// <summary>Unweighted mean of per-class F1 (scikit-learn's f1_score average='macro').</summary>
    public double MacroF1 => PerClass.Average(c => c.F1);

    /// <summary>Metrics from scores (N×classes, row-major) and true labels.</summary>
    public static ClassificationMetrics FromScores(ReadOnlySpan<float> scores, IReadOnlyList<int> labels, IReadOnlyList<string> classNames, int k = 5)
    {
        var classes = classNames.Count;
        if (scores.Length != labels.Count * classes)
        {
            throw new ArgumentException($"{scores.Length} scores do not make {labels.Count} rows of {classes} classes.");
        }

        var confusion = new long[classes, classes];
        var inTopK = 0;
        k = Math.Clamp(k, 1, classes);
        for (var n = 0; n < labels.Count; n++)
        {
            var row = scores.Slice(n * classes, classes);
            var predicted = 0;
            for (var c = 1; c < classes; c++)
            {
                if (row[c] > row[predicted])
                {
                    predicted = c;
                }
            }

            confusion[labels[n], predicted]++;
            // The true class is in the top k when fewer than k classes score strictly higher.
            var higher = 0;
            for (var c = 0; c < classes; c++)
            {
                if (row[c] > row[labels[n]])
                {
                    higher++;
                }
            }

            if (higher < k)
            {
                inTopK++;
            }
        }

        return new ClassificationMetrics(classNames, confusion, labels.Count == 0 ? 0 : (double)inTopK / labels.Count, k);
    }

    /// <summary>Metrics from predicted and true class indices.</summary>
    public static ClassificationMetrics FromPredictions(IReadOnlyList<int> predicted, IReadOnlyList<int> labels, IReadOnlyList<string> classNames)
    {
        var confusion = new long[classNames.Count, classNames.Count];
        for (var i = 0; i < labels.Count; i++)
        {
            confusion[labels[i], predicted[i]]++;
        }

        var correct = predicted.Zip(labels).Count(p => p.First == p.Second);
        return new ClassificationMetrics(classNames, confusion, labels.Count == 0 ? 0 : (double)correct / labels.Count, 1);
    }

    /// <summary>Exponential moving average of a curve (TensorBoard-style smoothing, factor 0.8 in the practice we serve).</summary>
    public static double[] Smooth(IReadOnlyList<double> values, double factor = 0.8)
    {
        var result = new double[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            result[i] = i == 0 ? values[0] : (result[i - 1] * factor) + (values[i] * (1 - factor));
        }

        return result;
    }
}
