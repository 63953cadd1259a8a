namespace OnnxCnn.Preprocess.Internal;

/// <summary>
/// A small deterministic generator (SplitMix64) seeded from (seed, epoch, sample index), so a
/// sample's augmentation is the same whatever thread or order it is produced in.
/// </summary>
internal struct SampleRandom
{
    private ulong state;

    public SampleRandom(long seed, long epoch, long index)
    {
        state = Mix((ulong)seed) ^ Mix((ulong)epoch + 0x632BE59BD9B4E019UL) ^ Mix((ulong)index + 0x9E3779B97F4A7C15UL);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong Next()
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix(state);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [low, high).</summary>
    public double Uniform(double low, double high) => low + ((high - low) * NextDouble());

    public bool Coin(double p = 0.5) => NextDouble() < p;

    public int NextInt(int exclusiveMax) => (int)(NextDouble() * exclusiveMax);
}
