namespace OnnxConformance;

/// <summary>A small deterministic random generator (xorshift64*), seeded from a case name, so fixtures are reproducible.</summary>
internal sealed class Rng
{
    private ulong state;

    public Rng(ulong seed) => state = seed == 0 ? 0x9E3779B97F4A7C15UL : seed;

    public static Rng ForName(string name)
    {
        // FNV-1a 64: stable across runs and platforms (string.GetHashCode is randomised).
        ulong h = 14695981039346656037UL;
        foreach (char c in name)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        return new Rng(h);
    }

    public ulong NextULong()
    {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        return state * 2685821657736338717UL;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public float NextFloat() => (NextULong() >> 40) * (1.0f / (1 << 24));

    public float Uniform(float min, float max) => min + ((max - min) * NextFloat());

    public int Int(int minInclusive, int maxExclusive) => minInclusive + (int)(NextULong() % (ulong)(maxExclusive - minInclusive));

    /// <summary>Approximately normal (sum of uniforms), mean 0, standard deviation 1.</summary>
    public float Normal()
    {
        float s = 0;
        for (int i = 0; i < 12; i++)
        {
            s += NextFloat();
        }

        return s - 6f;
    }

    public float[] Floats(int count, float min = -1f, float max = 1f)
    {
        var a = new float[count];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = Uniform(min, max);
        }

        return a;
    }

    public byte[] Bytes(int count, int min = 0, int max = 255)
    {
        var a = new byte[count];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = (byte)Int(min, max + 1);
        }

        return a;
    }

    public sbyte[] SBytes(int count, int min = -128, int max = 127)
    {
        var a = new sbyte[count];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = (sbyte)Int(min, max + 1);
        }

        return a;
    }

    public int[] Ints(int count, int min, int max)
    {
        var a = new int[count];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = Int(min, max + 1);
        }

        return a;
    }

    public long[] Longs(int count, int min, int max)
    {
        var a = new long[count];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = Int(min, max + 1);
        }

        return a;
    }

    public bool[] Bools(int count)
    {
        var a = new bool[count];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = (NextULong() & 1) != 0;
        }

        return a;
    }
}
