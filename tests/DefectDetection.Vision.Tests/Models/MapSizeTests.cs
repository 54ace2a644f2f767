using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;

namespace DefectDetection.Vision.Tests.Models;

/// <summary>Anomaly maps and masks stay bounded whatever the image's size or shape; located defects stay in image coordinates.</summary>
public sealed class MapSizeTests
{
    private const long Limit = 1L << 24;

    private static VariationModel Model()
    {
        List<Image> normals = [.. Enumerable.Range(0, 6).Select(i => SyntheticImages.Pattern(10 + i, 0, 0))];
        try
        {
            return new VariationModelTrainer(new VariationModelOptions { MaxShift = 2 }).Fit(normals);
        }
        finally
        {
            normals.ForEach(n => n.Dispose());
        }
    }

    [Fact]
    public void ALargeImageGetsAScaledMap_AndItsDefectBoxInImageCoordinates()
    {
        // The pattern stretched to 6000 x 5000 (30 MP) with a white square where the model expects pattern.
        using VariationModel model = Model();
        using Image small = SyntheticImages.Pattern(99, 0, 0, i => SyntheticImages.Square(i, 20, 30, 8, 255));
        using Image large = Image.Create(6000, 5000, PixelFormat.Gray8);
        ImageResizer.Resize(small.View(), large, ResizeMode.Bilinear);
        DefectPrediction p = model.Predict(large.View());
        Assert.True(p.IsDefect);
        Assert.Equal((6000, 5000), (p.ImageWidth, p.ImageHeight));
        AnomalyMap map = p.AnomalyMap!;
        Assert.True((long)map.Width * map.Height <= Limit, $"{map.Width}x{map.Height}");
        Assert.Equal(map.Values.Length, p.Mask!.Length);
        Assert.Equal(6000.0 / map.Width, map.ScaleX, 9);

        // The square sits at (20..28, 30..38) of 96 x 80: (1250..1750, 1875..2375) in the large image.
        Rectangle box = p.Defects.MaxBy(d => d.Area)!.Box;
        Rectangle truth = Rectangle.FromEdges(1250, 1875, 1750, 2375);
        Assert.True(Rectangle.IntersectionOverUnion(box, truth) > 0.5, $"{box} vs {truth}");
        Assert.InRange(p.TotalPercentageArea, 0.5 * 100 * 500 * 500 / 30e6, 2.0 * 100 * 500 * 500 / 30e6);
    }

    [Fact]
    public void AnImageOfFiftyMillionByOnePixelsGetsABoundedMap()
    {
        using VariationModel model = Model();
        using Image strip = Image.Create(50_000_000, 1, PixelFormat.Gray8);
        DefectPrediction p = model.Predict(strip.View());
        AnomalyMap map = p.AnomalyMap!;
        Assert.Equal(1, map.Height);
        Assert.True(map.Width <= Limit);
        Assert.Equal((50_000_000, 1), (p.ImageWidth, p.ImageHeight));
        Assert.All(p.Defects, d => Assert.True(d.Box.Right <= 50_000_000 && d.Box.Bottom <= 1, d.Box.ToString()));
    }
}
