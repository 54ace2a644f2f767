using DefectDetection.Imaging;
using DefectDetection.Pipeline;

namespace DefectDetection.Core.Tests.Pipeline;

public sealed class DefectPipelineTilingTests
{
    // Finds bright (> 128) 4-connected blobs by flood fill, reading only the pixels of the tile it is given; records
    // the largest area it was asked to read.
    private sealed class BlobDetector(int overlap) : ITileableRoiDetector
    {
        private long _largest;

        public long LargestArea => Interlocked.Read(ref _largest);

        public int Calls { get; private set; }

        public int MinimumTileOverlap => overlap;

        public IReadOnlyList<RegionOfInterest> Detect(ImageView image, CancellationToken cancellationToken = default) =>
            DetectTile(image, new Rectangle(0, 0, image.Width, image.Height), cancellationToken);

        public IReadOnlyList<RegionOfInterest> DetectTile(ImageView image, Rectangle tile, CancellationToken cancellationToken = default)
        {
            Calls++;
            long area = (long)tile.Width * tile.Height;
            long seen;
            do
            {
                seen = Interlocked.Read(ref _largest);
            }
            while (area > seen && Interlocked.CompareExchange(ref _largest, area, seen) != seen);

            ImageView view = image.Slice(tile);
            bool[] visited = new bool[tile.Width * tile.Height];
            List<RegionOfInterest> found = [];
            Stack<(int X, int Y)> stack = new();
            for (int y = 0; y < tile.Height; y++)
            {
                for (int x = 0; x < tile.Width; x++)
                {
                    if (visited[(y * tile.Width) + x] || view.GetRow(y)[x] <= 128)
                    {
                        continue;
                    }

                    int x0 = x, y0 = y, x1 = x, y1 = y;
                    visited[(y * tile.Width) + x] = true;
                    stack.Push((x, y));
                    while (stack.Count > 0)
                    {
                        (int px, int py) = stack.Pop();
                        (x0, y0, x1, y1) = (Math.Min(x0, px), Math.Min(y0, py), Math.Max(x1, px), Math.Max(y1, py));
                        foreach ((int nx, int ny) in new[] { (px - 1, py), (px + 1, py), (px, py - 1), (px, py + 1) })
                        {
                            if (nx >= 0 && ny >= 0 && nx < tile.Width && ny < tile.Height && !visited[(ny * tile.Width) + nx] && view.GetRow(ny)[nx] > 128)
                            {
                                visited[(ny * tile.Width) + nx] = true;
                                stack.Push((nx, ny));
                            }
                        }
                    }

                    found.Add(new RegionOfInterest(Rectangle.FromEdges(x0 + tile.X, y0 + tile.Y, x1 + 1 + tile.X, y1 + 1 + tile.Y), "blob"));
                }
            }

            return found;
        }
    }

    // A dark gray image with bright discs of radius 3..20 at random places (some straddling any tile border).
    private static Image Blobs(int width, int height, int count, int seed)
    {
        Image image = Image.Create(width, height, PixelFormat.Gray8);
        image.Pixels.Fill(30);
        Random rng = new(seed);
        for (int i = 0; i < count; i++)
        {
            int r = rng.Next(3, 21), cx = rng.Next(width), cy = rng.Next(height);
            for (int y = Math.Max(0, cy - r); y <= Math.Min(height - 1, cy + r); y++)
            {
                Span<byte> row = image.GetRow(y);
                for (int x = Math.Max(0, cx - r); x <= Math.Min(width - 1, cx + r); x++)
                {
                    if (((x - cx) * (x - cx)) + ((y - cy) * (y - cy)) <= r * r)
                    {
                        row[x] = 220;
                    }
                }
            }
        }

        return image;
    }

    [Theory]
    [InlineData(1000, 700, 100_000, 100)]
    [InlineData(4000, 130, 20_000, 0)]
    [InlineData(64, 64, 4096, 0)]
    [InlineData(3001, 2999, 1_000_000, 300)]
    [InlineData(500, 500, 1_000_000, 64)]
    public void TileCoresPartitionTheImageAndLieHalfTheOverlapInsideTheirTiles(int width, int height, long budget, int overlap)
    {
        List<DefectPipeline.DetectionTile> tiles = DefectPipeline.PlanTiles(width, height, budget, overlap);
        int[] owners = new int[width * height];
        int roundedOverlap = (overlap + 63) / 64 * 64;
        foreach (DefectPipeline.DetectionTile t in tiles)
        {
            Assert.True(new Rectangle(0, 0, width, height).Contains(t.Bounds), $"tile {t.Bounds} leaves the image");
            Assert.True(t.Bounds.Contains(t.Core), $"core {t.Core} leaves tile {t.Bounds}");
            Assert.Equal(0, t.Bounds.X % 64);
            Assert.Equal(0, t.Bounds.Y % 64);
            int side = Math.Max((int)Math.Sqrt(budget) / 64 * 64, roundedOverlap + 64);
            Assert.True(t.Bounds.Width <= side && t.Bounds.Height <= side);
            Assert.True(t.Core.X == 0 || t.Core.X - t.Bounds.X >= roundedOverlap / 2);
            Assert.True(t.Core.Right == width || t.Bounds.Right - t.Core.Right >= roundedOverlap / 2);
            Assert.True(t.Core.Y == 0 || t.Core.Y - t.Bounds.Y >= roundedOverlap / 2);
            Assert.True(t.Core.Bottom == height || t.Bounds.Bottom - t.Core.Bottom >= roundedOverlap / 2);
            for (int y = t.Core.Y; y < t.Core.Bottom; y++)
            {
                for (int x = t.Core.X; x < t.Core.Right; x++)
                {
                    owners[(y * width) + x]++;
                }
            }
        }

        Assert.All(owners, n => Assert.Equal(1, n));
    }

    [Theory]
    [InlineData(0, 64, 2)]
    [InlineData(1, 64, 2)]
    [InlineData(452, 64, 2)]
    [InlineData(100, 64, 2)]
    [InlineData(100, 64, 8)]
    [InlineData(7, 3, 1)]
    public void BatchesAreContiguousNearlyEqualAndEnoughForTheWorkers(int count, int batchSize, int workers)
    {
        (int Start, int Length)[] ranges = [.. DefectPipeline.BatchRanges(count, batchSize, workers)];
        int next = 0;
        foreach ((int start, int length) in ranges)
        {
            Assert.Equal(next, start);
            Assert.InRange(length, 1, batchSize);
            next += length;
        }

        Assert.Equal(count, next);
        if (count > 0)
        {
            Assert.True(ranges.Max(r => r.Length) - ranges.Min(r => r.Length) <= 1);
            Assert.True(ranges.Length >= Math.Min(workers, count));
            Assert.Equal(Math.Max((count + batchSize - 1) / batchSize, Math.Min(workers, count)), ranges.Length);
        }
    }

    [Fact]
    public void ATiledLargeImageGivesTheSameRegionsAndDefectsAsOneWholeImageDetection()
    {
        using Image image = Blobs(2600, 1900, 400, seed: 5);
        BlobDetector whole = new(overlap: 96), tiled = new(overlap: 96);
        BrightnessClassifier classifier = new(new CropSize(16, 16), threshold: 100);
        InspectionResult reference = new DefectPipeline(whole, classifier, new DefectPipelineOptions { ContextMargin = 4 }).Inspect(image);
        InspectionResult result = new DefectPipeline(tiled, classifier, new DefectPipelineOptions
        {
            ContextMargin = 4,
            MaxDetectionPixels = 250_000,
            DetectionTileOverlap = 64,
        }).Inspect(image);

        Assert.Equal(1, whole.Calls);
        Assert.True(tiled.Calls > 10, $"{tiled.Calls} tiles");
        Assert.True(tiled.LargestArea <= 512 * 512, $"a tile of {tiled.LargestArea} pixels");
        Assert.True(reference.Regions.Count > 300);
        Assert.Equal(Describe(reference.Regions), Describe(result.Regions));
        Assert.Equal(
            reference.Defects.Select(d => (d.Box, d.Label, d.Confidence)).OrderBy(d => (d.Box.Y, d.Box.X)),
            result.Defects.Select(d => (d.Box, d.Label, d.Confidence)).OrderBy(d => (d.Box.Y, d.Box.X)));
    }

    [Fact]
    public void SmallImagesAndPlainDetectorsAreNotTiled()
    {
        using Image image = Blobs(300, 200, 10, seed: 1);
        BlobDetector detector = new(overlap: 0);
        new DefectPipeline(detector, new BrightnessClassifier(null, threshold: 100), new DefectPipelineOptions { MaxDetectionPixels = 60_000 }).Inspect(image);
        Assert.Equal(1, detector.Calls);
        new DefectPipeline(detector, new BrightnessClassifier(null, threshold: 100), new DefectPipelineOptions { MaxDetectionPixels = 10_000, DetectionTileOverlap = 0 }).Inspect(image);
        Assert.True(detector.Calls > 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DefectPipeline(detector, new BrightnessClassifier(null, threshold: 100), new DefectPipelineOptions { MaxDetectionPixels = 10 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DefectPipeline(detector, new BrightnessClassifier(null, threshold: 100), new DefectPipelineOptions { DetectionTileOverlap = -1 }));
    }

    private static List<(Rectangle Box, string? Label, string Verdict)> Describe(IReadOnlyList<RoiVerdict> regions) =>
        [.. regions.Select(r => (r.Region.Box, r.Region.Label, r.Verdict.Label)).OrderBy(r => (r.Box.Y, r.Box.X, r.Box.Width, r.Box.Height))];
}
