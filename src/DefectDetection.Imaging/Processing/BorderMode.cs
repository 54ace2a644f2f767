namespace DefectDetection.Imaging.Processing;

/// <summary>How pixels outside an image are made up (for padding, cropping beyond the edges and filters).</summary>
public enum BorderMode
{
    /// <summary>A constant colour or value.</summary>
    Constant = 0,

    /// <summary>The nearest edge pixel repeated: <c>aaa|abcd|ddd</c>.</summary>
    Replicate = 1,

    /// <summary>Mirrored including the edge pixel: <c>cba|abcd|dcb</c> (SciPy "reflect", OpenCV BORDER_REFLECT).</summary>
    Reflect = 2,

    /// <summary>Mirrored about the edge pixel: <c>dcb|abcd|cba</c> (OpenCV's default BORDER_REFLECT_101, PyTorch "reflect").</summary>
    Reflect101 = 3,
}

/// <summary>Index mapping for <see cref="BorderMode"/>.</summary>
internal static class Border
{
    /// <summary>The source index for index <paramref name="i"/> of an axis of <paramref name="n"/>, or -1 for <see cref="BorderMode.Constant"/> outside.</summary>
    public static int Map(int i, int n, BorderMode mode)
    {
        if ((uint)i < (uint)n)
        {
            return i;
        }

        switch (mode)
        {
            case BorderMode.Replicate:
                return i < 0 ? 0 : n - 1;
            case BorderMode.Reflect:
            {
                long period = 2L * n;
                long m = ((i % period) + period) % period;
                return (int)(m < n ? m : period - 1 - m);
            }

            case BorderMode.Reflect101:
            {
                if (n == 1)
                {
                    return 0;
                }

                long period = 2L * (n - 1);
                long m = ((i % period) + period) % period;
                return (int)(m < n ? m : period - m);
            }

            default:
                return -1;
        }
    }

    public static void Check(BorderMode mode)
    {
        if (mode is not (BorderMode.Constant or BorderMode.Replicate or BorderMode.Reflect or BorderMode.Reflect101))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown border mode.");
        }
    }
}
