using System.Globalization;

namespace OnnxCnn.Training;

/// <summary>A mean and (population) standard deviation over folds.</summary>
/// <param name="Mean">The mean.</param>
/// <param name="Std">The standard deviation (divided by K, as numpy's and scikit-learn's reports do).</param>
public readonly record struct MeanStd(double Mean, double Std)
{
    /// <summary>The statistics of <paramref name="values"/>.</summary>
    public static MeanStd Of(IReadOnlyCollection<double> values)
    {
        var mean = values.Average();
        return new MeanStd(mean, Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Count));
    }

    /// <summary><c>0.912 ± 0.031</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Mean:F3} ± {Std:F3}");
}
