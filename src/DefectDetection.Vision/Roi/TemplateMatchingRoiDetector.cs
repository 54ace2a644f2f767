using DefectDetection.Imaging;
using DefectDetection.Pipeline;

namespace DefectDetection.Vision.Roi;

/// <summary>
/// Finds every instance of a template (a pin, a connector, a part) by zero-mean normalised cross-correlation:
/// an exhaustive search on a coarse pyramid level with integral images for the window statistics, then
/// refinement level by level down to full resolution, optional small rotations, and non-maximum suppression.
/// Learns the template from one example box. Thread-safe.
/// </summary>
public sealed class TemplateMatchingRoiDetector : ITileableRoiDetector
{
    private readonly TemplateMatchingOptions _options;
    private readonly int _levels;

    // [rotation][level]
    private readonly Template[][] _templates;

    /// <summary>Creates a detector for the given template image.</summary>
    /// <param name="template">The pattern to find (any pixel format; matched in luma).</param>
    /// <param name="options">Thresholds, pyramid and rotation options.</param>
    public TemplateMatchingRoiDetector(ImageView template, TemplateMatchingOptions? options = null)
    {
        _options = options ?? new TemplateMatchingOptions();
        _options.Validate();
        if (template.Width < 3 || template.Height < 3)
        {
            throw new ArgumentException($"The template must be at least 3x3 pixels, got {template.Width}x{template.Height}.", nameof(template));
        }

        TemplateWidth = template.Width;
        TemplateHeight = template.Height;
        int levels = _options.PyramidLevels;
        if (levels < 0)
        {
            levels = 0;
            while (levels < 6 && Math.Min(TemplateWidth, TemplateHeight) >> (levels + 1) >= 8)
            {
                levels++;
            }
        }

        _levels = levels;
        using GrayPlane plane = GrayPlane.FromView(template);
        List<double> angles = [0, .. _options.RotationsDegrees.Where(a => a != 0)];
        _templates = new Template[angles.Count][];
        for (int r = 0; r < angles.Count; r++)
        {
            GrayPlane level = angles[r] == 0 ? GrayPlane.FromView(template) : Rotate(plane, angles[r]);
            _templates[r] = new Template[levels + 1];
            for (int l = 0; l <= levels; l++)
            {
                _templates[r][l] = new Template(level);
                if (l < levels)
                {
                    GrayPlane next = level.Half();
                    level.Dispose();
                    level = next;
                }
            }

            level.Dispose();
            if (_templates[r][levels].Norm <= 0)
            {
                throw new ArgumentException("The template is flat (one grey level): it matches everything equally.", nameof(template));
            }
        }
    }

    /// <summary>Template width in pixels.</summary>
    public int TemplateWidth { get; }

    /// <summary>Template height in pixels.</summary>
    public int TemplateHeight { get; }

    /// <inheritdoc />
    public int MinimumTileOverlap => (2 * Math.Max(TemplateWidth, TemplateHeight)) + (2 << _levels);

    /// <inheritdoc />
    /// <remarks>Searches the tile alone (its luma and pyramid only); <see cref="TemplateMatchingOptions.MaxMatches"/> applies per tile.</remarks>
    public IReadOnlyList<RegionOfInterest> DetectTile(ImageView image, Rectangle tile, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<RegionOfInterest> found = Detect(image.Slice(tile), cancellationToken);
        RegionOfInterest[] moved = new RegionOfInterest[found.Count];
        for (int i = 0; i < moved.Length; i++)
        {
            Rectangle b = found[i].Box;
            moved[i] = found[i] with { Box = new Rectangle(b.X + tile.X, b.Y + tile.Y, b.Width, b.Height) };
        }

        return moved;
    }

    /// <summary>Learns the template from one example: the box around one instance in an image.</summary>
    /// <param name="image">An image holding the example.</param>
    /// <param name="box">The box around the example, inside the image.</param>
    /// <param name="options">Detector options.</param>
    public static TemplateMatchingRoiDetector FromExample(ImageView image, Rectangle box, TemplateMatchingOptions? options = null)
    {
        if (!new Rectangle(0, 0, image.Width, image.Height).Contains(box) || box.IsEmpty)
        {
            throw new ArgumentOutOfRangeException(nameof(box), $"The example box {box} is empty or leaves the {image.Width}x{image.Height} image.");
        }

        return new TemplateMatchingRoiDetector(image.Slice(box), options);
    }

    /// <inheritdoc />
    public IReadOnlyList<RegionOfInterest> Detect(ImageView image, CancellationToken cancellationToken = default)
    {
        if (image.Width < TemplateWidth || image.Height < TemplateHeight)
        {
            return [];
        }

        GrayPlane[] pyramid = new GrayPlane[_levels + 1];
        pyramid[0] = GrayPlane.FromView(image);
        for (int l = 1; l <= _levels; l++)
        {
            pyramid[l] = pyramid[l - 1].Half();
        }

        Candidate[] refined;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            List<Candidate> candidates = CoarseSearch(pyramid[_levels], cancellationToken);
            refined = new Candidate[candidates.Count];
            Parallel.For(0, candidates.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
            {
                refined[i] = Refine(pyramid, candidates[i]);
            });
        }
        finally
        {
            foreach (GrayPlane plane in pyramid)
            {
                plane?.Dispose();
            }
        }

        Array.Sort(refined, (a, b) => b.Score.CompareTo(a.Score));
        List<RegionOfInterest> result = [];
        foreach (Candidate c in refined)
        {
            if (c.Score < _options.ScoreThreshold)
            {
                break;
            }

            Rectangle box = new(c.X, c.Y, TemplateWidth, TemplateHeight);
            bool suppressed = false;
            foreach (RegionOfInterest kept in result)
            {
                if (Rectangle.IntersectionOverUnion(kept.Box, box) > _options.NmsIou)
                {
                    suppressed = true;
                    break;
                }
            }

            if (!suppressed)
            {
                result.Add(new RegionOfInterest(box, _options.Label, c.Score));
                if (result.Count >= _options.MaxMatches)
                {
                    break;
                }
            }
        }

        return result;
    }

    private List<Candidate> CoarseSearch(GrayPlane plane, CancellationToken cancellationToken)
    {
        Template t0 = _templates[0][_levels];
        int mw = plane.Width - t0.Width + 1, mh = plane.Height - t0.Height + 1;
        if (mw <= 0 || mh <= 0)
        {
            return [];
        }

        plane.EnsureIntegrals();
        float[] scores = new float[mw * mh];
        byte[] rotation = new byte[mw * mh];
        Parallel.For(0, mh, new ParallelOptions { CancellationToken = cancellationToken }, y =>
        {
            for (int r = 0; r < _templates.Length; r++)
            {
                Template t = _templates[r][_levels];
                for (int x = 0; x < mw; x++)
                {
                    float s = plane.Ncc(t, x, y);
                    int i = (y * mw) + x;
                    if (r == 0 || s > scores[i])
                    {
                        scores[i] = s;
                        rotation[i] = (byte)r;
                    }
                }
            }
        });

        // Local maxima above a relaxed threshold (the coarse level is blurred, so true matches score lower there).
        float threshold = _options.ScoreThreshold - (0.15f * Math.Min(1, _levels));
        int radius = Math.Max(1, Math.Min(t0.Width, t0.Height) / 2);
        List<Candidate> candidates = [];
        for (int y = 0; y < mh; y++)
        {
            for (int x = 0; x < mw; x++)
            {
                float s = scores[(y * mw) + x];
                if (s < threshold || !IsLocalMax(scores, mw, mh, x, y, radius, s))
                {
                    continue;
                }

                candidates.Add(new Candidate(x, y, s, rotation[(y * mw) + x]));
            }
        }

        candidates.Sort((a, b) => b.Score.CompareTo(a.Score));
        int cap = Math.Min(candidates.Count, (_options.MaxMatches * 4) + 64);
        return candidates.GetRange(0, cap);
    }

    private static bool IsLocalMax(float[] scores, int mw, int mh, int x, int y, int radius, float s)
    {
        int y0 = Math.Max(0, y - radius), y1 = Math.Min(mh - 1, y + radius);
        int x0 = Math.Max(0, x - radius), x1 = Math.Min(mw - 1, x + radius);
        for (int yy = y0; yy <= y1; yy++)
        {
            for (int xx = x0; xx <= x1; xx++)
            {
                float o = scores[(yy * mw) + xx];
                // Ties are broken towards the first position in scan order.
                if (o > s || (o == s && (yy < y || (yy == y && xx < x))))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private Candidate Refine(GrayPlane[] pyramid, Candidate c)
    {
        int x = c.X, y = c.Y, r = c.Rotation;
        float best = c.Score;
        for (int l = _levels - 1; l >= 0; l--)
        {
            GrayPlane plane = pyramid[l];
            x *= 2;
            y *= 2;
            int bx = x, by = y, br = r;
            best = float.MinValue;
            int r0 = Math.Max(0, r - 1), r1 = Math.Min(_templates.Length - 1, r + 1);
            for (int rr = r0; rr <= r1; rr++)
            {
                Template t = _templates[rr][l];
                for (int dy = -2; dy <= 2; dy++)
                {
                    for (int dx = -2; dx <= 2; dx++)
                    {
                        int px = x + dx, py = y + dy;
                        if (px < 0 || py < 0 || px + t.Width > plane.Width || py + t.Height > plane.Height)
                        {
                            continue;
                        }

                        float s = plane.Ncc(t, px, py);
                        if (s > best)
                        {
                            (best, bx, by, br) = (s, px, py, rr);
                        }
                    }
                }
            }

            (x, y, r) = (bx, by, br);
        }

        return new Candidate(x, y, best, r);
    }

    private static GrayPlane Rotate(GrayPlane src, double degrees)
    {
        double a = degrees * Math.PI / 180, cos = Math.Cos(a), sin = Math.Sin(a);
        int w = src.Width, h = src.Height;
        double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
        Image rotated = Image.Create(w, h, PixelFormat.Gray8);
        for (int y = 0; y < h; y++)
        {
            Span<byte> dst = rotated.GetRow(y);
            for (int x = 0; x < w; x++)
            {
                // Inverse mapping with clamped bilinear sampling.
                double sx = cx + ((x - cx) * cos) + ((y - cy) * sin);
                double sy = cy - ((x - cx) * sin) + ((y - cy) * cos);
                sx = Math.Clamp(sx, 0, w - 1);
                sy = Math.Clamp(sy, 0, h - 1);
                int x0 = (int)sx, y0 = (int)sy;
                int x1 = Math.Min(x0 + 1, w - 1), y1 = Math.Min(y0 + 1, h - 1);
                double fx = sx - x0, fy = sy - y0;
                ReadOnlySpan<float> r0 = src.Row(y0), r1 = src.Row(y1);
                double v = (((r0[x0] * (1 - fx)) + (r0[x1] * fx)) * (1 - fy)) + (((r1[x0] * (1 - fx)) + (r1[x1] * fx)) * fy);
                dst[x] = (byte)Math.Clamp(Math.Round(v), 0, 255);
            }
        }

        return new GrayPlane(rotated);
    }

    private readonly record struct Candidate(int X, int Y, float Score, int Rotation);
}
