using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;
using DefectDetection.Vision.Roi;

namespace DefectDetection.Vision.Tests.Classification;

/// <summary>Synthetic test/golden-reference pairs for the template-difference detector and classifier tests.</summary>
internal static class TracePairs
{
    /// <summary>Detector settings that suit these pairs.</summary>
    public static readonly TemplateDifferenceOptions DetectorOptions = new() { Tolerance = 1, MergeDistance = 2, MinArea = 4, BoxMargin = 0, MinBoxSize = 24, MaxShift = 2 };

    /// <summary>
    /// A reference of horizontal traces (8 px, every 32 px, dark on light) and a test image with one defect of each
    /// kind on three of the even traces, at random: "copper" (a dark 6x6 blob below the trace), "open" (a 5 px cut
    /// across the trace) and "spur" (a 4x5 bump on the trace's lower edge); then <paramref name="specks"/> isolated
    /// 2x2 dark specks (scanning noise the detector may pick up).
    /// </summary>
    public static (Image Test, Image Reference, List<LabeledBox> Defects) Pair(int seed, int size = 256, int specks = 0)
    {
        int w = size, h = size;
        Image reference = Image.Create(w, h, PixelFormat.Gray8);
        reference.Pixels.Fill(255);
        for (int t = 0; t < h / 32; t++)
        {
            for (int y = (t * 32) + 8; y < (t * 32) + 16; y++)
            {
                reference.GetRow(y).Slice(8, w - 16).Clear();
            }
        }

        Image test = reference.Clone();
        Random rng = new(seed);
        List<LabeledBox> defects = [];
        List<int> rows = [.. Enumerable.Range(0, h / 64).Select(r => r * 2).OrderBy(_ => rng.Next())]; // every second trace
        for (int k = 0; k < 3; k++)
        {
            int row = rows[k] * 32, x = rng.Next(30, w - 40);
            switch (k)
            {
                case 0: // copper: between this trace and the next
                    Fill(test, x, row + 22, 6, 6, 0);
                    defects.Add(new(new Rectangle(x - 8, row + 17, 22, 16), "copper"));
                    break;
                case 1: // open
                    Fill(test, x, row + 8, 5, 8, 255);
                    defects.Add(new(new Rectangle(x - 8, row + 4, 21, 16), "open"));
                    break;
                default: // spur below the trace (away from the copper blobs, which lie below the traces too)
                    Fill(test, x, row + 16, 4, 5, 0);
                    defects.Add(new(new Rectangle(x - 8, row + 12, 20, 16), "spur"));
                    break;
            }
        }

        for (int s = 0; s < specks; s++)
        {
            Fill(test, rng.Next(10, w - 12), (rng.Next(0, h / 32) * 32) + 20, 2, 2, 0);
        }

        return (test, reference, defects);
    }

    /// <summary>Training samples from <see cref="Pair"/> for seeds first..first+count-1 (images disposed after use).</summary>
    public static IEnumerable<ReferencePairSample> Samples(int first, int count, int size = 256, int specks = 0)
    {
        for (int i = first; i < first + count; i++)
        {
            (Image test, Image reference, List<LabeledBox> defects) = Pair(i, size, specks);
            using (test)
            using (reference)
            {
                yield return new ReferencePairSample(test, reference, defects);
            }
        }
    }

    /// <summary>Sets a w x h rectangle of a gray image to <paramref name="value"/>.</summary>
    public static void Fill(Image image, int x, int y, int w, int h, byte value)
    {
        for (int r = y; r < y + h; r++)
        {
            image.GetRow(r).Slice(x, w).Fill(value);
        }
    }
}
