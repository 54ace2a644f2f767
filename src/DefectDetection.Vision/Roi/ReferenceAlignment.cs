using System.Runtime.CompilerServices;
using DefectDetection.Imaging;

namespace DefectDetection.Vision.Roi;

/// <summary>
/// The translation that aligns an image with its golden reference, shared by the template-difference detector and
/// classifier: the detector remembers the shift it found for an image (weakly, keyed by the image object) so that
/// the classifier judging crops of the same image need not search again.
/// </summary>
internal static class ReferenceAlignment
{
    private static readonly ConditionalWeakTable<Image, Entry> s_cache = [];

    /// <summary>The shift (image -> reference) of <paramref name="image"/>, from the cache or searched now.</summary>
    public static (int X, int Y) Get(ImageView image, ImageView reference, int maxShift)
    {
        if (maxShift == 0)
        {
            return (0, 0);
        }

        if (s_cache.TryGetValue(image.Source, out Entry? e) && e.Matches(image, reference, maxShift))
        {
            return e.Shift;
        }

        byte[] test = TemplateDifferenceRoiDetector.ToGray(image), refGray = TemplateDifferenceRoiDetector.ToGray(reference);
        (int X, int Y) shift = Align(test, refGray, image.Width, image.Height, maxShift);
        Remember(image, reference, maxShift, shift);
        return shift;
    }

    /// <summary>Remembers the shift found for <paramref name="image"/> against <paramref name="reference"/>.</summary>
    public static void Remember(ImageView image, ImageView reference, int maxShift, (int X, int Y) shift)
    {
        if (maxShift > 0)
        {
            s_cache.AddOrUpdate(image.Source, new Entry(image.Region, reference.Source, reference.Region, maxShift, shift));
        }
    }

    // Chooses the shift (image -> reference) minimising the mean absolute difference on a subsampled grid: every
    // shift for small ranges; for larger ones every second shift on a sparser grid, then the neighbourhood of the best.
    internal static (int X, int Y) Align(byte[] test, byte[] reference, int w, int h, int maxShift)
    {
        if (maxShift == 0)
        {
            return (0, 0);
        }

        if (maxShift <= 4)
        {
            return Search(test, reference, w, h, maxShift, 0, 0, maxShift, 1, 4);
        }

        (int cx, int cy) = Search(test, reference, w, h, maxShift, 0, 0, maxShift, 4, 8);
        (cx, cy) = Search(test, reference, w, h, maxShift, cx, cy, 2, 1, 8);
        return Search(test, reference, w, h, maxShift, cx, cy, 1, 1, 4);
    }

    // Searches shifts (x0 + dx, y0 + dy), |dx|, |dy| <= range in steps of 'step', within +-maxShift, sampling every
    // 'grid'-th pixel; prefers smaller shifts on ties.
    private static (int X, int Y) Search(byte[] test, byte[] reference, int w, int h, int maxShift, int x0, int y0, int range, int step, int grid)
    {
        long best = long.MaxValue;
        (int, int) shift = (x0, y0);
        for (int ddy = -range; ddy <= range; ddy += step)
        {
            int dy = y0 + ddy;
            if (Math.Abs(dy) > maxShift)
            {
                continue;
            }

            for (int ddx = -range; ddx <= range; ddx += step)
            {
                int dx = x0 + ddx;
                if (Math.Abs(dx) > maxShift)
                {
                    continue;
                }

                long sum = 0, n = 0;
                for (int y = maxShift; y < h - maxShift; y += grid)
                {
                    int ro = ((y + dy) * w) + dx, to = y * w;
                    for (int x = maxShift; x < w - maxShift; x += grid)
                    {
                        sum += Math.Abs(test[to + x] - reference[ro + x]);
                        n++;
                    }
                }

                long score = n == 0 ? long.MaxValue : (sum * 1024 / n) + Math.Abs(dx) + Math.Abs(dy);
                if (score < best)
                {
                    best = score;
                    shift = (dx, dy);
                }
            }
        }

        return shift;
    }

    private sealed record Entry(Rectangle Region, Image Reference, Rectangle ReferenceRegion, int MaxShift, (int X, int Y) Shift)
    {
        public bool Matches(ImageView image, ImageView reference, int maxShift) =>
            Region == image.Region && ReferenceEquals(Reference, reference.Source) && ReferenceRegion == reference.Region && MaxShift == maxShift;
    }
}
