using DefectDetection.Imaging;

namespace DefectDetection.Pipeline;

/// <content>Stage 1 on large images: detection tile by tile.</content>
public sealed partial class DefectPipeline
{
    /// <summary>Tile origins are multiples of this, so that pyramid levels of a tile line up with the image's.</summary>
    internal const int TileAlignment = 64;

    private IReadOnlyList<RegionOfInterest> DetectRegions(ImageView image, CancellationToken cancellationToken)
    {
        if (_detector is not ITileableRoiDetector tiled || (long)image.Width * image.Height <= _options.MaxDetectionPixels)
        {
            return _detector.Detect(image, cancellationToken);
        }

        int overlap = Math.Max(_options.DetectionTileOverlap, tiled.MinimumTileOverlap);
        List<RegionOfInterest> regions = [];
        foreach (DetectionTile t in PlanTiles(image.Width, image.Height, _options.MaxDetectionPixels, overlap))
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (RegionOfInterest roi in tiled.DetectTile(image, t.Bounds, cancellationToken))
            {
                // Each region belongs to the one tile whose core holds its centre (clamped into the image): the
                // cores partition the image, so a region seen by two overlapping tiles is kept once.
                int cx = Math.Clamp(roi.Box.X + (roi.Box.Width / 2), 0, image.Width - 1);
                int cy = Math.Clamp(roi.Box.Y + (roi.Box.Height / 2), 0, image.Height - 1);
                if (cx >= t.Core.X && cx < t.Core.Right && cy >= t.Core.Y && cy < t.Core.Bottom)
                {
                    regions.Add(roi);
                }
            }
        }

        return regions;
    }

    /// <summary>
    /// Overlapping square tiles covering a width x height image, each at most about <paramref name="maxPixels"/>
    /// pixels (but at least overlap + <see cref="TileAlignment"/> a side), origins on multiples of
    /// <see cref="TileAlignment"/>, with cores that partition the image and lie at least overlap / 2 inside their
    /// tile except at the image border.
    /// </summary>
    internal static List<DetectionTile> PlanTiles(int width, int height, long maxPixels, int overlap)
    {
        overlap = RoundUp(Math.Max(overlap, 0), TileAlignment);
        int side = (int)Math.Min(int.MaxValue / 2, Math.Sqrt(maxPixels));
        side = Math.Max(side / TileAlignment * TileAlignment, overlap + TileAlignment);
        int step = side - overlap;
        int[] xs = Origins(width, side, step), ys = Origins(height, side, step);
        List<DetectionTile> tiles = new(xs.Length * ys.Length);
        for (int j = 0; j < ys.Length; j++)
        {
            for (int i = 0; i < xs.Length; i++)
            {
                Rectangle bounds = Rectangle.FromEdges(xs[i], ys[j], Math.Min(xs[i] + side, width), Math.Min(ys[j] + side, height));
                int cx0 = i == 0 ? 0 : xs[i] + (overlap / 2), cx1 = i == xs.Length - 1 ? width : xs[i + 1] + (overlap / 2);
                int cy0 = j == 0 ? 0 : ys[j] + (overlap / 2), cy1 = j == ys.Length - 1 ? height : ys[j + 1] + (overlap / 2);
                tiles.Add(new DetectionTile(bounds, Rectangle.FromEdges(cx0, cy0, cx1, cy1)));
            }
        }

        return tiles;
    }

    private static int[] Origins(int length, int side, int step)
    {
        int count = length <= side ? 1 : ((length - side + step - 1) / step) + 1;
        int[] origins = new int[count];
        for (int k = 0; k < count; k++)
        {
            origins[k] = k * step;
        }

        return origins;
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>One detection tile: the pixels examined and the core whose region centres it keeps.</summary>
    internal readonly record struct DetectionTile(Rectangle Bounds, Rectangle Core);
}
