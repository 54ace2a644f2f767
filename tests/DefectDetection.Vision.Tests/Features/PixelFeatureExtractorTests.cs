using DefectDetection.Imaging;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;
using DefectDetection.Vision.Features;

namespace DefectDetection.Vision.Tests.Features;

public sealed class PixelFeatureExtractorTests
{
    [Fact]
    public void AreaAveragesToTheThumbnailAndScalesToUnitRange()
    {
        // 4x4 gray: left half 0, right half 200 -> 2x2 thumbnail [0, 200; 0, 200] / 255.
        using Image image = Image.Create(4, 4, PixelFormat.Gray8);
        for (int y = 0; y < 4; y++)
        {
            image.GetRow(y).Slice(2, 2).Fill(200);
        }

        PixelFeatureExtractor gray = new(new PixelFeatureOptions { Size = 2, Color = false });
        Assert.Equal(4, gray.FeatureLength);
        float[] f = gray.Extract(image);
        float[] expected = [0f, 200f / 255, 0f, 200f / 255];
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(expected[i], f[i], 1e-6f);
        }

        // Colour: the gray image expands to three equal channels per pixel.
        PixelFeatureExtractor color = new(new PixelFeatureOptions { Size = 2 });
        float[] c = color.Extract(image);
        Assert.Equal(12, c.Length);
        Assert.All(c.AsSpan(3, 3).ToArray(), v => Assert.Equal(200f / 255, v, 1e-6f));
    }

    [Fact]
    public void ConcatenationKeepsPartsInOrderAndChecksLengths()
    {
        using Image image = Image.Create(8, 8, PixelFormat.Rgb24);
        image.Pixels.Fill(51);
        PixelFeatureExtractor a = new(new PixelFeatureOptions { Size = 2, Color = false }), b = new(new PixelFeatureOptions { Size = 1 });
        ConcatenatedFeatureExtractor both = new(a, b);
        Assert.Equal(a.FeatureLength + b.FeatureLength, both.FeatureLength);
        Assert.Equal([.. a.Extract(image), .. b.Extract(image)], both.Extract(image));
        Assert.Contains(a.Identity, both.Identity);
        Assert.Throws<ArgumentException>(() => both.Extract(image, new float[3]));
        Assert.Throws<ArgumentException>(() => new ConcatenatedFeatureExtractor());
    }

    [Fact]
    public void FeatureCropClassifierCallsDefectsWhenDefectLabelsOutweighNormal()
    {
        // Bright crops are "blob", dark ones "normal": a head trained on the mean brightness pixel feature.
        PixelFeatureExtractor extractor = new(new PixelFeatureOptions { Size = 1, Color = false });
        List<float[]> features = [];
        List<string> labels = [];
        for (int v = 0; v <= 255; v += 5)
        {
            features.Add([v / 255f]);
            labels.Add(v > 128 ? "blob" : "normal");
        }

        SoftmaxClassifierModel head = new SoftmaxClassifierTrainer(new SoftmaxClassifierOptions { Seed = 1 }).Fit(features, labels);
        FeatureCropClassifier classifier = new(extractor, head, ["normal"], new CropSize(4, 4));
        using Image dark = Image.Create(4, 4, PixelFormat.Gray8), bright = Image.Create(4, 4, PixelFormat.Gray8);
        dark.Pixels.Fill(20);
        bright.Pixels.Fill(240);
        IReadOnlyList<CropVerdict> verdicts = classifier.Classify([dark.View(), bright.View()]);
        Assert.False(verdicts[0].IsDefect);
        Assert.Equal("normal", verdicts[0].Label);
        Assert.True(verdicts[0].Confidence < 0.5f);
        Assert.True(verdicts[1].IsDefect);
        Assert.Equal("blob", verdicts[1].Label);
        Assert.True(verdicts[1].Confidence > 0.5f);
        Assert.Throws<ArgumentException>(() => new FeatureCropClassifier(extractor, head, ["ok"]));
    }
}
