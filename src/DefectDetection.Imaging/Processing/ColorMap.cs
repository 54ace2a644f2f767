namespace DefectDetection.Imaging.Processing;

/// <summary>Colour maps for heat maps: 256-entry tables, index 0 for the low end of the range.</summary>
public enum ColorMap
{
    /// <summary>MATLAB/OpenCV Jet: dark blue, blue, cyan, yellow, red, dark red.</summary>
    Jet = 0,

    /// <summary>Google's Turbo (a perceptually smoother Jet), from its published polynomial approximation.</summary>
    Turbo = 1,

    /// <summary>Matplotlib "hot": black, red, yellow, white.</summary>
    Hot = 2,

    /// <summary>Gray levels, black to white.</summary>
    Gray = 3,
}

/// <summary>The lookup tables behind <see cref="ColorMap"/>.</summary>
internal static class ColorMapTables
{
    private static readonly byte[][] Tables = [Build(Jet), Build(Turbo), Build(Hot), Build(t => (t, t, t))];

    /// <summary>768 bytes: R, G, B for each of the 256 indices.</summary>
    public static ReadOnlySpan<byte> Get(ColorMap map) => (uint)map < (uint)Tables.Length
        ? Tables[(int)map]
        : throw new ArgumentOutOfRangeException(nameof(map), map, "Unknown colour map.");

    // Jet: each channel is a trapezoid 1.5 - |4t - k|, clamped, with k = 3 (red), 2 (green), 1 (blue).
    internal static (double R, double G, double B) Jet(double t) =>
        (1.5 - Math.Abs((4 * t) - 3), 1.5 - Math.Abs((4 * t) - 2), 1.5 - Math.Abs((4 * t) - 1));

    // Turbo: Anton Mikhailov's degree-5 polynomial fit (Google AI blog, 2019).
    internal static (double R, double G, double B) Turbo(double t) =>
    (
        0.13572138 + (t * (4.61539260 + (t * (-42.66032258 + (t * (132.13108234 + (t * (-152.94239396 + (t * 59.28637943))))))))),
        0.09140261 + (t * (2.19418839 + (t * (4.84296658 + (t * (-14.18503333 + (t * (4.27729857 + (t * 2.82956604))))))))),
        0.10667330 + (t * (12.64194608 + (t * (-60.58204836 + (t * (110.36276771 + (t * (-89.90310912 + (t * 27.34824973)))))))))
    );

    // Matplotlib "hot" segments: red 0.0416 -> 1 over [0, 0.365079]; green 0 -> 1 over [0.365079, 0.746032];
    // blue 0 -> 1 over [0.746032, 1].
    internal static (double R, double G, double B) Hot(double t) =>
    (
        0.0416 + ((1 - 0.0416) * t / 0.365079),
        (t - 0.365079) / (0.746032 - 0.365079),
        (t - 0.746032) / (1 - 0.746032)
    );

    private static byte[] Build(Func<double, (double R, double G, double B)> f)
    {
        byte[] table = new byte[768];
        for (int i = 0; i < 256; i++)
        {
            (double r, double g, double b) = f(i / 255.0);
            table[3 * i] = ToByte(r);
            table[(3 * i) + 1] = ToByte(g);
            table[(3 * i) + 2] = ToByte(b);
        }

        return table;
    }

    private static byte ToByte(double v) => (byte)Math.Round(Math.Clamp(v, 0, 1) * 255, MidpointRounding.AwayFromZero);
}
