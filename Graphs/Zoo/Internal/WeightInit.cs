namespace OnnxCnn.Graphs.Zoo.Internal;

/// <summary>One of torchvision's initialisation rules for a parameter or buffer.</summary>
internal readonly record struct WeightInit(WeightInit.Rule Kind, double Value)
{
    internal enum Rule
    {
        /// <summary>Every element equals <see cref="Value"/>.</summary>
        Constant,

        /// <summary>Normal with mean 0 and standard deviation <see cref="Value"/>.</summary>
        Normal,

        /// <summary>Uniform on [−<see cref="Value"/>, <see cref="Value"/>).</summary>
        Uniform,
    }

    public static WeightInit Constant(double value) => new(Rule.Constant, value);

    public static WeightInit Normal(double std) => new(Rule.Normal, std);

    public static WeightInit Uniform(double bound) => new(Rule.Uniform, bound);

    /// <summary>
    /// <c>kaiming_normal_(mode='fan_out', nonlinearity='relu')</c> of a convolution weight:
    /// std = √(2 / (out_channels·kh·kw)).
    /// </summary>
    public static WeightInit KaimingNormalFanOut(long outChannels, int kernel) =>
        Normal(Math.Sqrt(2.0 / (outChannels * kernel * kernel)));

    /// <summary>
    /// PyTorch's default <c>nn.Linear</c> init for weight and bias alike: kaiming_uniform_ with
    /// a = √5 on the weight gives bound 1/√fan_in, and the bias uses the same bound.
    /// </summary>
    public static WeightInit LinearDefault(long fanIn) => Uniform(1.0 / Math.Sqrt(fanIn));

    /// <summary>Fills <paramref name="values"/>; random rules draw from a stream of their own per tensor name.</summary>
    public void Fill(Span<float> values, int seed, string name)
    {
        if (Kind == Rule.Constant)
        {
            values.Fill((float)Value);
            return;
        }

        var random = new ZooRandom(seed, name);
        if (Kind == Rule.Uniform)
        {
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = (float)(((2 * random.NextDouble()) - 1) * Value);
            }

            return;
        }

        var pairs = values.Length / 2;
        for (var i = 0; i < pairs; i++)
        {
            var (z0, z1) = random.NextGaussianPair();
            values[2 * i] = (float)(z0 * Value);
            values[(2 * i) + 1] = (float)(z1 * Value);
        }

        if ((values.Length & 1) != 0)
        {
            values[^1] = (float)(random.NextGaussianPair().Z0 * Value);
        }
    }
}
