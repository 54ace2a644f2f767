namespace DefectDetection.Synthetic;

/// <summary>Options of <see cref="PcbBoardGenerator"/>. Defaults give 3200x2400 boards with several hundred pins.</summary>
public sealed class PcbBoardOptions
{
    /// <summary>Image width in pixels. Default: 3200.</summary>
    public int Width { get; init; } = 3200;

    /// <summary>Image height in pixels. Default: 2400.</summary>
    public int Height { get; init; } = 2400;

    /// <summary>Resolution: pixels per millimetre of board. Default: 16 (a 2.54 mm pin pitch is about 41 px).</summary>
    public double PixelsPerMm { get; init; } = 16;

    /// <summary>Components placed on the design (DIP ICs, headers, two-pin parts). Default: 40.</summary>
    public int ComponentCount { get; init; } = 40;

    /// <summary>Largest rotation of a board in the image, in degrees (uniform in +/-). Default: 1.0.</summary>
    public double MaxRotationDegrees { get; init; } = 1.0;

    /// <summary>Largest translation of a board in the image, in pixels (uniform in +/-, per axis). Default: 24.</summary>
    public double MaxTranslation { get; init; } = 24;

    /// <summary>Largest relative scale change of a board (uniform in +/-). Default: 0.015.</summary>
    public double MaxScaleChange { get; init; } = 0.015;

    /// <summary>Standard deviation of the Gaussian sensor noise, in grey levels. Default: 4.</summary>
    public double NoiseSigma { get; init; } = 4;

    /// <summary>Strength of the lighting gradient: the darkest corner is this fraction darker. Default: 0.25.</summary>
    public double LightingStrength { get; init; } = 0.25;

    /// <summary>Fewest defects on a defective board. Default: 1.</summary>
    public int MinDefects { get; init; } = 1;

    /// <summary>Most defects on a defective board. Default: 4.</summary>
    public int MaxDefects { get; init; } = 4;

    /// <summary>Which defect kinds to draw. Default: all of <see cref="PcbDefectKinds"/>.</summary>
    public IReadOnlyList<string> DefectKinds { get; init; } = PcbDefectKinds.All;

    internal void Validate()
    {
        if (Width < 256 || Height < 256)
        {
            throw new ArgumentOutOfRangeException(nameof(Width), $"Boards must be at least 256x256 pixels, got {Width}x{Height}.");
        }

        if (PixelsPerMm is < 4 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(PixelsPerMm), $"PixelsPerMm must be in [4, 100], got {PixelsPerMm}.");
        }

        if (MinDefects < 0 || MaxDefects < MinDefects)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDefects), $"Need 0 <= MinDefects <= MaxDefects, got {MinDefects}..{MaxDefects}.");
        }

        foreach (string kind in DefectKinds)
        {
            if (!PcbDefectKinds.All.Contains(kind))
            {
                throw new ArgumentException($"Unknown defect kind '{kind}'; known kinds: {string.Join(", ", PcbDefectKinds.All)}.", nameof(DefectKinds));
            }
        }

        if (MaxDefects > 0 && DefectKinds.Count == 0)
        {
            throw new ArgumentException("DefectKinds is empty but MaxDefects > 0.", nameof(DefectKinds));
        }
    }
}

/// <summary>
/// The defect kinds the generator draws (also the annotation labels). A missing hole is labelled with its pin's box;
/// a spur or stray copper, which is not a pin, with its own box: the bounds of the copper that shows beside the pads,
/// plus a 2-pixel margin.
/// </summary>
public static class PcbDefectKinds
{
    /// <summary>A plated through-hole pin whose hole was never drilled: the pad is solid copper.</summary>
    public const string MissingHole = "missing_hole";

    /// <summary>A thin copper protrusion from a pad.</summary>
    public const string Spur = "spur";

    /// <summary>A stray blob of copper on the solder mask just beside a pad.</summary>
    public const string SpuriousCopper = "spurious_copper";

    /// <summary>Every kind.</summary>
    public static IReadOnlyList<string> All { get; } = [MissingHole, Spur, SpuriousCopper];
}
