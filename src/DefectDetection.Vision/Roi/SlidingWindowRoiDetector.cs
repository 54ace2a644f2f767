using DefectDetection.Imaging;
using DefectDetection.Pipeline;

namespace DefectDetection.Vision.Roi;

/// <summary>Options of <see cref="SlidingWindowRoiDetector"/>.</summary>
public sealed class SlidingWindowOptions
{
    /// <summary>Tile width in pixels. Default: 256.</summary>
    public int TileWidth { get; init; } = 256;

    /// <summary>Tile height in pixels. Default: 256.</summary>
    public int TileHeight { get; init; } = 256;

    /// <summary>Fraction of a tile shared with its neighbour, in [0, 0.9]. Default: 0.25.</summary>
    public double Overlap { get; init; } = 0.25;

    /// <summary>The label given to every tile. Default: "tile".</summary>
    public string Label { get; init; } = "tile";

    /// <summary>
    /// The most tiles one image may make (a tile size far too small for the image would otherwise make millions of
    /// regions); an image that would make more is refused with a message. Default: 100,000.
    /// </summary>
    public int MaxTiles { get; init; } = 100_000;

    internal void Validate()
    {
        if (TileWidth < 1 || TileHeight < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(TileWidth), $"Tiles must be at least 1x1, got {TileWidth}x{TileHeight}.");
        }

        if (Overlap is < 0 or > 0.9 || double.IsNaN(Overlap))
        {
            throw new ArgumentOutOfRangeException(nameof(Overlap), $"Overlap must be in [0, 0.9], got {Overlap}.");
        }

        if (MaxTiles < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTiles), $"MaxTiles must be at least 1, got {MaxTiles}.");
        }
    }
}

/// <summary>
/// Covers the image with overlapping tiles (a sliding window), the last row and column aligned to the image's
/// right and bottom edges so that every pixel is covered and no tile leaves the image. Pair it with
/// <see cref="DefectPipelineOptions"/>' defect merging to turn positive tiles into defect boxes.
/// </summary>
public sealed class SlidingWindowRoiDetector(SlidingWindowOptions? options = null) : ITileableRoiDetector
{
    private readonly SlidingWindowOptions _options = Validated(options ?? new SlidingWindowOptions());

    /// <inheritdoc />
    public IReadOnlyList<RegionOfInterest> Detect(ImageView image, CancellationToken cancellationToken = default)
    {
        int tw = Math.Min(_options.TileWidth, image.Width), th = Math.Min(_options.TileHeight, image.Height);
        long count = (long)Count(image.Width, tw, _options.Overlap) * Count(image.Height, th, _options.Overlap);
        if (count > _options.MaxTiles)
        {
            throw new ArgumentException(
                $"A {image.Width}x{image.Height} image in {tw}x{th} tiles with overlap {_options.Overlap} makes {count:N0} tiles, more than the limit of {_options.MaxTiles:N0} (SlidingWindowOptions.MaxTiles): use larger tiles.",
                nameof(image));
        }

        List<RegionOfInterest> tiles = [];
        foreach (int y in Starts(image.Height, th, _options.Overlap))
        {
            foreach (int x in Starts(image.Width, tw, _options.Overlap))
            {
                tiles.Add(new RegionOfInterest(new Rectangle(x, y, tw, th), _options.Label));
            }
        }

        return tiles;
    }

    /// <inheritdoc />
    public int MinimumTileOverlap => 2 * Math.Max(_options.TileWidth, _options.TileHeight);

    /// <inheritdoc />
    /// <remarks>The windows of the whole image's grid that lie inside the tile.</remarks>
    public IReadOnlyList<RegionOfInterest> DetectTile(ImageView image, Rectangle tile, CancellationToken cancellationToken = default)
    {
        List<RegionOfInterest> inside = [];
        foreach (RegionOfInterest roi in Detect(image, cancellationToken))
        {
            if (tile.Contains(roi.Box))
            {
                inside.Add(roi);
            }
        }

        return inside;
    }

    // How many origins Starts gives, without listing them.
    private static long Count(int length, int tile, double overlap)
    {
        int step = Math.Max(1, (int)Math.Round(tile * (1 - overlap)));
        int last = length - tile;
        return last <= 0 ? 1 : ((last + step - 1) / step) + 1;
    }

    /// <summary>Tile origins along one axis: a step of size x (1 - overlap), the last tile flush with the end.</summary>
    internal static IEnumerable<int> Starts(int length, int tile, double overlap)
    {
        int step = Math.Max(1, (int)Math.Round(tile * (1 - overlap)));
        int last = length - tile;
        for (int s = 0; s < last; s += step)
        {
            yield return s;
        }

        yield return last;
    }

    private static SlidingWindowOptions Validated(SlidingWindowOptions o)
    {
        o.Validate();
        return o;
    }
}
