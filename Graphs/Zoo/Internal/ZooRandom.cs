namespace OnnxCnn.Graphs.Zoo.Internal;

/// <summary>
/// xoshiro256** seeded through SplitMix64 from the model seed and the tensor's name. Our own
/// generator rather than <see cref="Random"/> so the bits a seed gives are fixed by this file
/// (the logarithm in the normal draws comes from the platform's math library, which may differ in
/// the last bit between platforms), and one stream per tensor so a tensor's values do not depend on the tensors built before it
/// (changing <see cref="ZooOptions.Classes"/> leaves every convolution as it was).
/// </summary>
internal struct ZooRandom
{
    private ulong s0;
    private ulong s1;
    private ulong s2;
    private ulong s3;

    public ZooRandom(int seed, string name)
    {
        // FNV-1a over the name's UTF-16 code units, mixed with the seed.
        var hash = 0xcbf29ce484222325UL;
        foreach (var c in name)
        {
            hash = (hash ^ c) * 0x100000001b3UL;
        }

        var state = hash ^ ((ulong)(uint)seed * 0x9E3779B97F4A7C15UL);
        s0 = SplitMix(ref state);
        s1 = SplitMix(ref state);
        s2 = SplitMix(ref state);
        s3 = SplitMix(ref state);
    }

    /// <summary>Uniform on [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>
    /// Two independent standard normal values: Box–Muller in Marsaglia's polar form, which needs
    /// no sine or cosine (a point uniform in the unit disc carries the angle) and is several times
    /// faster, which matters for VGG's 138 million weights.
    /// </summary>
    public (double Z0, double Z1) NextGaussianPair()
    {
        double u, v, s;
        do
        {
            u = (2 * NextDouble()) - 1;
            v = (2 * NextDouble()) - 1;
            s = (u * u) + (v * v);
        }
        while (s >= 1 || s == 0);

        var factor = Math.Sqrt(-2 * Math.Log(s) / s);
        return (u * factor, v * factor);
    }

    private ulong NextUInt64()
    {
        var result = ulong.RotateLeft(s1 * 5, 7) * 9;
        var t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = ulong.RotateLeft(s3, 45);
        return result;
    }

    private static ulong SplitMix(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
