namespace DefectDetection.Vision;

/// <summary>
/// The bootstrap standard error of the difference of two candidates' scores on the same validation items: the rule
/// by which the automatic configuration decides whether a costlier candidate is really better (the one-standard-error
/// rule of Breiman et al. and Hastie et al.).
/// </summary>
internal static class PairedBootstrap
{
    /// <summary>Resamples drawn, enough for a standard error to about 5% of its value.</summary>
    public const int Samples = 200;

    /// <summary>
    /// Draws <see cref="Samples"/> resamples (with replacement) of <paramref name="count"/> items, seeded by
    /// <paramref name="seed"/>, and returns the standard deviation of <paramref name="difference"/> over them; the
    /// delegate scores both candidates on the resample it is given and returns their difference.
    /// </summary>
    public static double StandardError(int count, int seed, Func<int[], double> difference)
    {
        Random random = new(seed);
        int[] sample = new int[count];
        double sum = 0, sumSquares = 0;
        for (int r = 0; r < Samples; r++)
        {
            for (int i = 0; i < sample.Length; i++)
            {
                sample[i] = random.Next(sample.Length);
            }

            double d = difference(sample);
            sum += d;
            sumSquares += d * d;
        }

        double mean = sum / Samples;
        return Math.Sqrt(Math.Max(0, (sumSquares / Samples) - (mean * mean)));
    }
}
