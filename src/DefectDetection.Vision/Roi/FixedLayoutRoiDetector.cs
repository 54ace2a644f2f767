using DefectDetection.Imaging;
using DefectDetection.Pipeline;

namespace DefectDetection.Vision.Roi;

/// <summary>Options of <see cref="FixedLayoutRoiDetector"/>.</summary>
public sealed class FixedLayoutOptions
{
    /// <summary>How far (pixels) a fiducial may have moved from its place in the golden image. Default: 64.</summary>
    public int SearchRadius { get; init; } = 64;

    /// <summary>Smallest correlation score accepted for a fiducial match. Default: 0.6.</summary>
    public float MinFiducialScore { get; init; } = 0.6f;

    /// <summary>Also estimate a scale change (needs two or more fiducials). Default: false.</summary>
    public bool EstimateScale { get; init; }

    internal void Validate()
    {
        if (SearchRadius < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(SearchRadius), $"SearchRadius must be positive, got {SearchRadius}.");
        }

        if (MinFiducialScore is < -1 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MinFiducialScore), $"MinFiducialScore must be in [-1, 1], got {MinFiducialScore}.");
        }
    }
}

/// <summary>Raised when an image cannot be registered to the golden layout (a fiducial was not found).</summary>
public sealed class RegistrationException(string message) : Exception(message);

/// <summary>
/// Regions of interest from a golden image's layout (the place of every part), registered to each new image: the
/// fiducials (distinctive marks or parts) are found near their golden positions by normalised cross-correlation,
/// a rotation + translation (optionally scale) is fitted to them by least squares, and every layout region is
/// moved with it. One fiducial gives translation only. So a drifting board still crops right.
/// </summary>
public sealed class FixedLayoutRoiDetector : IRoiDetector
{
    private readonly IReadOnlyList<RegionOfInterest> _layout;
    private readonly Rectangle[] _fiducials;
    private readonly TemplateMatchingRoiDetector[] _matchers;
    private readonly FixedLayoutOptions _options;

    /// <summary>Creates the detector.</summary>
    /// <param name="golden">The golden image the layout and fiducials are given in.</param>
    /// <param name="layout">The regions to inspect, in golden-image coordinates.</param>
    /// <param name="fiducials">Boxes of distinctive marks in the golden image (at least one; two or more far apart
    /// give rotation).</param>
    /// <param name="options">Search radius, score threshold, scale estimation.</param>
    public FixedLayoutRoiDetector(ImageView golden, IReadOnlyList<RegionOfInterest> layout, IReadOnlyList<Rectangle> fiducials, FixedLayoutOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(fiducials);
        if (fiducials.Count == 0)
        {
            throw new ArgumentException("At least one fiducial box is needed to register images.", nameof(fiducials));
        }

        _options = options ?? new FixedLayoutOptions();
        _options.Validate();
        _layout = [.. layout];
        _fiducials = [.. fiducials];
        _matchers = new TemplateMatchingRoiDetector[_fiducials.Length];
        for (int i = 0; i < _fiducials.Length; i++)
        {
            _matchers[i] = TemplateMatchingRoiDetector.FromExample(golden, _fiducials[i], new TemplateMatchingOptions
            {
                ScoreThreshold = -1,
                MaxMatches = 1,
                PyramidLevels = 0,
            });
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<RegionOfInterest> Detect(ImageView image, CancellationToken cancellationToken = default)
    {
        (double A, double B, double Tx, double Ty) t = Register(image, cancellationToken);
        List<RegionOfInterest> result = new(_layout.Count);
        double scale = Math.Sqrt((t.A * t.A) + (t.B * t.B));
        foreach (RegionOfInterest roi in _layout)
        {
            double cx = roi.Box.X + (roi.Box.Width / 2.0), cy = roi.Box.Y + (roi.Box.Height / 2.0);
            double nx = (t.A * cx) - (t.B * cy) + t.Tx, ny = (t.B * cx) + (t.A * cy) + t.Ty;
            int w = (int)Math.Round(roi.Box.Width * scale), h = (int)Math.Round(roi.Box.Height * scale);
            result.Add(roi with { Box = new Rectangle((int)Math.Round(nx - (w / 2.0)), (int)Math.Round(ny - (h / 2.0)), w, h) });
        }

        return result;
    }

    /// <summary>
    /// The similarity transform golden -> image as (a, b, tx, ty): x' = a x - b y + tx, y' = b x + a y + ty.
    /// </summary>
    internal (double A, double B, double Tx, double Ty) Register(ImageView image, CancellationToken cancellationToken)
    {
        int n = _fiducials.Length;
        double[] px = new double[n], py = new double[n], qx = new double[n], qy = new double[n];
        Rectangle bounds = new(0, 0, image.Width, image.Height);
        for (int i = 0; i < n; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Rectangle f = _fiducials[i];
            Rectangle window = Rectangle.Intersect(f.Inflate(_options.SearchRadius), bounds);
            RegionOfInterest? best = window.Width >= f.Width && window.Height >= f.Height
                ? _matchers[i].Detect(image.Slice(window), cancellationToken).FirstOrDefault()
                : null;
            if (best is not { } match || match.Score < _options.MinFiducialScore)
            {
                string score = best is { } m ? m.Score.ToString("F2", System.Globalization.CultureInfo.InvariantCulture) : "none";
                throw new RegistrationException($"Fiducial {i} (golden box {f}) was not found within {_options.SearchRadius} px: best score {score} < {_options.MinFiducialScore}.");
            }

            px[i] = f.X + (f.Width / 2.0);
            py[i] = f.Y + (f.Height / 2.0);
            qx[i] = window.X + match.Box.X + (f.Width / 2.0);
            qy[i] = window.Y + match.Box.Y + (f.Height / 2.0);
        }

        double pcx = px.Average(), pcy = py.Average(), qcx = qx.Average(), qcy = qy.Average();
        if (n == 1)
        {
            return (1, 0, qcx - pcx, qcy - pcy);
        }

        double a = 0, b = 0, norm = 0;
        for (int i = 0; i < n; i++)
        {
            double ux = px[i] - pcx, uy = py[i] - pcy, vx = qx[i] - qcx, vy = qy[i] - qcy;
            a += (ux * vx) + (uy * vy);
            b += (ux * vy) - (uy * vx);
            norm += (ux * ux) + (uy * uy);
        }

        double angle = Math.Atan2(b, a);
        double s = _options.EstimateScale && norm > 0 ? Math.Sqrt((a * a) + (b * b)) / norm : 1;
        double ca = s * Math.Cos(angle), sa = s * Math.Sin(angle);
        return (ca, sa, qcx - ((ca * pcx) - (sa * pcy)), qcy - ((sa * pcx) + (ca * pcy)));
    }
}
