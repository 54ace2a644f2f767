using DefectDetection.Datasets;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace DefectDetection.MLNet.Tests;

public sealed class DataLoadingTests
{
    [SharedFact]
    public void LookoutForVisionManifest_BecomesRowsWithPathsLabelsAndMasks()
    {
        MLContext ml = new();
        string manifest = Path.Combine(CookieData.Cookies, "dataset-files", "manifests", "template.manifest");
        IDataView data = ml.Data.LoadFromLookoutForVisionManifest(manifest, new ManifestOptions { ImageRoot = Path.Combine(CookieData.Cookies, "dataset-files") });
        string[] paths = [.. data.GetColumn<string>(DefectColumnNames.ImagePath)];
        bool[] defects = [.. data.GetColumn<bool>(DefectColumnNames.IsDefect)];
        float[] anomalyLabels = [.. data.GetColumn<float>(DefectColumnNames.AnomalyLabel)];
        string[] masks = [.. data.GetColumn<string>(DefectColumnNames.MaskPath)];
        Assert.Equal(63, paths.Length);
        for (int i = 0; i < paths.Length; i++)
        {
            // The file names carry the truth (normal-N.jpg, anomaly-N.jpg); only anomalies have masks.
            bool anomaly = Path.GetFileName(paths[i]).StartsWith("anomaly", StringComparison.Ordinal);
            Assert.True(File.Exists(paths[i]), paths[i]);
            Assert.Equal(anomaly, defects[i]);
            Assert.Equal(anomaly ? 1f : 0f, anomalyLabels[i]);
            Assert.Equal(anomaly, masks[i].Length > 0);
        }
    }

    [Fact]
    public void LabelFolders_BecomeRows()
    {
        string root = Directory.CreateTempSubdirectory("mlnet-folders-").FullName;
        try
        {
            foreach ((string label, int n) in new[] { ("good", 2), ("scratch", 3) })
            {
                Directory.CreateDirectory(Path.Combine(root, label));
                for (int i = 0; i < n; i++)
                {
                    using Imaging.Image image = Imaging.Image.Create(8, 8, Imaging.PixelFormat.Gray8);
                    Imaging.ImageCodecs.Save(image.View(), Path.Combine(root, label, $"{i}.png"));
                }
            }

            MLContext ml = new();
            IDataView data = ml.Data.LoadFromImageFolder(root);
            Assert.Equal(["good", "good", "scratch", "scratch", "scratch"], data.GetColumn<string>(DefectColumnNames.Label).ToArray());
            Assert.Equal([false, false, true, true, true], data.GetColumn<bool>(DefectColumnNames.IsDefect).ToArray());
            Assert.Equal(TextDataViewType.Instance, data.Schema[DefectColumnNames.ImagePath].Type);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
