using System.Globalization;

namespace OnnxCnn.Training.Reports.Internal;

/// <summary>
/// Axis ticks at "nice" values — 1, 2 or 5 × 10^k apart — that cover a data range (Heckbert's
/// algorithm, Graphics Gems 1990). The axis then spans exactly from the first to the last tick.
/// </summary>
internal readonly record struct NiceTicks(long FirstIndex, long LastIndex, double Step)
{
    /// <summary>The lowest tick (the axis minimum).</summary>
    public double Min => FirstIndex * Step;

    /// <summary>The highest tick (the axis maximum).</summary>
    public double Max => LastIndex * Step;

    /// <summary>Tick values, each an integer multiple of <see cref="Step"/>.</summary>
    public IEnumerable<double> Values
    {
        get
        {
            for (var i = FirstIndex; i <= LastIndex; i++)
            {
                yield return i * Step;
            }
        }
    }

    /// <summary>Ticks covering [<paramref name="min"/>, <paramref name="max"/>] with about <paramref name="target"/> of them; <paramref name="integer"/> keeps the step ≥ 1.</summary>
    public static NiceTicks Cover(double min, double max, int target = 6, bool integer = false)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max))
        {
            (min, max) = (0, 1);
        }

        if (min > max)
        {
            (min, max) = (max, min);
        }

        if (max - min <= Math.Max(Math.Abs(max), 1) * 1e-12)
        {
            // A constant series still gets an axis around its value.
            var half = min == 0 ? 0.5 : Math.Abs(min) * 0.1;
            (min, max) = (min - half, max + half);
        }

        var step = Nice(Nice(max - min, round: false) / Math.Max(1, target - 1), round: true);
        if (integer)
        {
            step = Math.Max(1, step);
        }

        var first = (long)Math.Floor((min / step) + 1e-9);
        var last = (long)Math.Ceiling((max / step) - 1e-9);
        return new NiceTicks(first, Math.Max(last, first + 1), step);
    }

    /// <summary>A tick label with as many decimals as the step needs.</summary>
    public string Format(double value)
    {
        var decimals = Math.Max(0, -(int)Math.Floor(Math.Log10(Step) + 1e-9));
        var text = value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        // Rounding can leave "-0.00" for a value a hair below zero.
        return text.StartsWith('-') && text.AsSpan(1).Trim("0.").IsEmpty ? text[1..] : text;
    }

    /// <summary>The nice number (1, 2, 5 or 10 × 10^k) nearest <paramref name="x"/> (<paramref name="round"/>) or at least <paramref name="x"/>.</summary>
    internal static double Nice(double x, bool round)
    {
        var exponent = Math.Floor(Math.Log10(x));
        var power = Math.Pow(10, exponent);
        var fraction = x / power;
        var nice = round
            ? fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
            : fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
        return nice * power;
    }
}
