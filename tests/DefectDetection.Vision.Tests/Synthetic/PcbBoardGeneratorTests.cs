using DefectDetection.Datasets;
using DefectDetection.Annotations;
using DefectDetection.Imaging;
using DefectDetection.Synthetic;

namespace DefectDetection.Vision.Tests.Synthetic;

public sealed class PcbBoardGeneratorTests
{
    private static readonly PcbBoardOptions Small = new() { Width = 1200, Height = 900, ComponentCount = 14, PixelsPerMm = 12 };

    [Fact]
    public void DefaultBoardsAreLargeWithHundredsOfPins()
    {
        PcbBoardGenerator generator = new(designSeed: 3);
        Assert.True(generator.Layout.Width >= 3000 && generator.Layout.Height >= 2000);
        Assert.True(generator.Layout.Pins.Count >= 200, $"only {generator.Layout.Pins.Count} pins");
    }

    [Fact]
    public void SameSeedsGiveTheSamePixelsAndLabels()
    {
        PcbBoardGenerator a = new(Small, 5), b = new(Small, 5);
        using SyntheticBoard x = a.Generate(11), y = b.Generate(11), z = a.Generate(12);
        Assert.True(x.Image.Pixels.SequenceEqual(y.Image.Pixels));
        Assert.Equal(x.Defects, y.Defects);
        Assert.False(x.Image.Pixels.SequenceEqual(z.Image.Pixels));
    }

    [Fact]
    public void DefectsLieInsideTheImageAndMissingHolesAreSolidCopper()
    {
        PcbBoardGenerator generator = new(new PcbBoardOptions
        {
            Width = 1200, Height = 900, ComponentCount = 14, PixelsPerMm = 12, NoiseSigma = 0, LightingStrength = 0,
            MinDefects = 3, MaxDefects = 3, DefectKinds = [PcbDefectKinds.MissingHole],
        }, 2);
        using SyntheticBoard board = generator.Generate(4);
        Assert.Equal(3, board.Defects.Count);
        foreach (LabeledBox defect in board.Defects)
        {
            Assert.True(board.Image.Bounds.Contains(defect.Box), $"{defect.Box} leaves the image");
            Assert.Contains(board.Pins, p => Rectangle.IntersectionOverUnion(p, defect.Box) > 0.9);

            // The centre of a missing hole is copper (bright, yellowish); the centre of a drilled pin is dark.
            Span<byte> px = board.Image.GetRow(defect.Box.Y + (defect.Box.Height / 2)).Slice((defect.Box.X + (defect.Box.Width / 2)) * 3, 3);
            Assert.True(px[0] > 150 && px[1] > 130, $"centre of missing hole is {px[0]},{px[1]},{px[2]}");
        }

        int drilled = 0;
        foreach (Rectangle pin in board.Pins)
        {
            if (board.Defects.Any(d => d.Box == pin))
            {
                continue;
            }

            Span<byte> px = board.Image.GetRow(pin.Y + (pin.Height / 2)).Slice((pin.X + (pin.Width / 2)) * 3, 3);
            Assert.True(px[0] < 60, $"centre of a drilled pin at {pin} is {px[0]},{px[1]},{px[2]}");
            drilled++;
        }

        Assert.True(drilled > 50);
    }

    [Theory]
    [InlineData(PcbDefectKinds.Spur)]
    [InlineData(PcbDefectKinds.SpuriousCopper)]
    public void CopperDefectsAreLabelledWithTheBoxOfTheCopperThatShows(string kind)
    {
        PcbBoardGenerator generator = new(new PcbBoardOptions
        {
            Width = 1200, Height = 900, ComponentCount = 14, PixelsPerMm = 12, NoiseSigma = 0, LightingStrength = 0,
            MinDefects = 1, MaxDefects = 1, DefectKinds = [kind],
        }, 2);
        for (int seed = 1; seed <= 8; seed++)
        {
            // The same seed places the board alike with and without defects: the difference is the defect.
            using SyntheticBoard bad = generator.Generate(seed), good = generator.Generate(seed, defective: false);
            LabeledBox truth = Assert.Single(bad.Defects);
            Assert.Equal(kind, truth.Label);
            int x0 = int.MaxValue, y0 = int.MaxValue, x1 = -1, y1 = -1;
            for (int y = 0; y < bad.Image.Height; y++)
            {
                Span<byte> a = bad.Image.GetRow(y), b = good.Image.GetRow(y);
                for (int x = 0; x < bad.Image.Width; x++)
                {
                    // At least half covered by the new copper (the red channel moves by 160-190 on full cover).
                    if (Math.Abs(a[x * 3] - b[x * 3]) >= 80)
                    {
                        (x0, y0, x1, y1) = (Math.Min(x0, x), Math.Min(y0, y), Math.Max(x1, x), Math.Max(y1, y));
                    }
                }
            }

            Assert.True(x1 >= 0, $"board {seed}: the {kind} changed no pixel");
            Rectangle expected = Rectangle.FromEdges(x0, y0, x1 + 1, y1 + 1).Inflate(2);
            Assert.True(
                Math.Abs(truth.Box.X - expected.X) <= 1 && Math.Abs(truth.Box.Y - expected.Y) <= 1
                    && Math.Abs(truth.Box.Right - expected.Right) <= 1 && Math.Abs(truth.Box.Bottom - expected.Bottom) <= 1,
                $"board {seed}: label {truth.Box}, changed pixels {expected}");
            Assert.DoesNotContain(bad.Pins, p => truth.Box.Contains(p));
        }
    }

    [Fact]
    public void GoodBoardsHaveNoDefectsAndBoardsMoveBetweenImages()
    {
        PcbBoardGenerator generator = new(Small, 9);
        using SyntheticBoard good = generator.Generate(1, defective: false);
        using SyntheticBoard other = generator.Generate(2, defective: false);
        Assert.Empty(good.Defects);
        Assert.NotEqual(good.Pins[0], other.Pins[0]);
    }

    [Theory]
    [InlineData(256, 256)]
    [InlineData(300, 256)]
    [InlineData(256, 2400)]
    public void TheSmallestBoardsHavePartsAndTakeDefects(int width, int height)
    {
        for (int seed = 1; seed <= 20; seed++)
        {
            PcbBoardGenerator generator = new(new PcbBoardOptions { Width = width, Height = height }, seed);
            Assert.NotEmpty(generator.Layout.Pins);
            using SyntheticBoard board = generator.Generate(seed, defective: true);
            Assert.NotEmpty(board.Defects);
        }
    }

    [Fact]
    public void AWideBoardIsLit()
    {
        // 46341 is the first width whose square overflows an int; the lighting once turned such boards black.
        PcbBoardGenerator generator = new(new PcbBoardOptions { Width = 46341, Height = 256, ComponentCount = 4 }, 1);
        using SyntheticBoard board = generator.Generate(1, defective: false);
        ReadOnlySpan<byte> row = board.Image.GetRow(128);
        int dark = 0;
        for (int i = 0; i < row.Length; i++)
        {
            dark += row[i] < 8 ? 1 : 0;
        }

        Assert.True(dark < row.Length / 4, $"{dark} of {row.Length} samples are black");
    }

    [Fact]
    public void ABoardWithNoRoomForAPartIsRejected()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new PcbBoardGenerator(new PcbBoardOptions { Width = 256, Height = 256, PixelsPerMm = 100 }));
        Assert.Contains("no room for a part", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidOptionsAreRejectedWithTheFieldName()
    {
        var ex = Assert.Throws<ArgumentException>(() => new PcbBoardGenerator(new PcbBoardOptions { DefectKinds = ["scratch"] }));
        Assert.Contains("scratch", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PcbBoardGenerator(new PcbBoardOptions { Width = 10 }));
    }
}
