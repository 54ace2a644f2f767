using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using DefectDetection.ModelFiles;
using DefectDetection.Tests;

namespace DefectDetection.Core.Tests.ModelFiles;

public class ModelPackageTests
{
    private static ModelPackage Sample(byte[]? backbone = null, string? backboneHash = null) => new(
        new ModelManifest
        {
            Task = "classification",
            Labels = ["normal", "anomaly"],
            Preprocessing = new PreprocessingInfo { Width = 224, Height = 224, Mean = [0.485f, 0.456f, 0.406f], Std = [0.229f, 0.224f, 0.225f] },
            Backbone = new BackboneInfo { Name = "mobilenetv2", Sha256 = backboneHash, TappedLayers = ["layer3", "layer4"] },
            Threshold = 0.42,
            TrainingData = new TrainingDataSummary { ImageCount = 63, PerLabel = new Dictionary<string, int> { ["normal"] = 31, ["anomaly"] = 32 }, Source = "cookies" },
            Metrics = new Dictionary<string, double> { ["accuracy"] = 0.95, ["roc_auc"] = double.NaN },
            Learner = DefectDetection.Models.Learners.ImageClassifier,
            ImageClassifier = new ImageClassifierSection { Extractor = "gradient-histogram", ExtractorIdentity = "test", FeatureLength = 3, NormalLabels = ["normal"], WeightFree = new WeightFreeExtractorInfo { Size = 8, Grid = 1, Bins = 3, Scales = 1 } },
            CreatedUtc = new DateTimeOffset(2026, 11, 21, 5, 0, 0, TimeSpan.Zero),
        },
        new Dictionary<string, ModelTensor>
        {
            ["head/weights"] = new([2, 3], [1.5f, -2f, float.Epsilon, 0f, 1e30f, -0.125f]),
            ["head/bias"] = new([2], [0.25f, -0.25f]),
            ["empty"] = new([0], []),
        },
        backbone);

    [Fact]
    public void SaveLoad_RoundTripsEverything()
    {
        using TempDir t = new();
        string path = Path.Combine(t.Path, "m.ddmodel");
        Sample().Save(path);
        ModelPackage back = ModelPackage.Load(path);

        Assert.Equal(ModelPackage.CurrentFormatVersion, back.Manifest.FormatVersion);
        Assert.Equal(ModelPackage.LibraryVersion, back.Manifest.LibraryVersion);
        Assert.Equal(["normal", "anomaly"], back.Manifest.Labels);
        Assert.Equal(224, back.Manifest.Preprocessing!.Width);
        Assert.Equal([0.229f, 0.224f, 0.225f], back.Manifest.Preprocessing.Std);
        Assert.Equal(["layer3", "layer4"], back.Manifest.Backbone!.TappedLayers);
        Assert.Equal(0.42, back.Manifest.Threshold);
        Assert.Equal(32, back.Manifest.TrainingData!.PerLabel["anomaly"]);
        Assert.Equal(0.95, back.Manifest.Metrics["accuracy"]);
        Assert.True(double.IsNaN(back.Manifest.Metrics["roc_auc"]));
        Assert.Equal(3, back.Manifest.ImageClassifier!.FeatureLength);
        Assert.Equal("gradient-histogram", back.Manifest.ImageClassifier.Extractor);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 5, 0, 0, TimeSpan.Zero), back.Manifest.CreatedUtc);
        Assert.Equal([2, 3], back.GetTensor("head/weights").Shape);
        Assert.Equal([1.5f, -2f, float.Epsilon, 0f, 1e30f, -0.125f], back.GetTensor("head/weights").Data);
        Assert.Empty(back.GetTensor("empty").Data);
        Assert.Equal(3, back.Manifest.Entries.Count);
        Assert.Null(back.EmbeddedBackbone);
        Assert.Throws<KeyNotFoundException>(() => back.GetTensor("nope"));
        Assert.Single(Directory.GetFiles(t.Path)); // no temporary file left
    }

    [Fact]
    public void Tensors_AreLittleEndianFloatsWithShapesInTheManifest()
    {
        using TempDir t = new();
        string path = Path.Combine(t.Path, "m.ddmodel");
        Sample().Save(path);
        using ZipArchive zip = ZipFile.OpenRead(path);
        using MemoryStream ms = new();
        using (Stream s = zip.GetEntry("tensors/head/bias.f32")!.Open())
        {
            s.CopyTo(ms);
        }

        byte[] expected = [.. BitConverter.GetBytes(0.25f), .. BitConverter.GetBytes(-0.25f)];
        Assert.Equal(expected, ms.ToArray());
        using StreamReader reader = new(zip.GetEntry("manifest.json")!.Open());
        string manifest = reader.ReadToEnd();
        Assert.Contains("\"format_version\": 2", manifest, StringComparison.Ordinal);
        Assert.Contains("\"tapped_layers\"", manifest, StringComparison.Ordinal);
        Assert.Contains("\"shape\"", manifest, StringComparison.Ordinal);
    }

    [Fact]
    public void Save_NeverOverwritesUnlessAsked()
    {
        using TempDir t = new();
        string path = t.File("m.ddmodel", "precious");
        IOException ex = Assert.Throws<IOException>(() => Sample().Save(path));
        Assert.Contains("already exists", ex.Message, StringComparison.Ordinal);
        Assert.Equal("precious", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(t.Path));

        Sample().Save(path, new ModelSaveOptions { Overwrite = true });
        Assert.Equal(2, ModelPackage.Load(path).Manifest.Labels.Count);
    }

    [Fact]
    public void Load_TruncatedFile_Throws()
    {
        using TempDir t = new();
        string path = Path.Combine(t.Path, "m.ddmodel");
        Sample().Save(path);
        byte[] bytes = File.ReadAllBytes(path);
        foreach (int length in new[] { 0, 10, bytes.Length / 2, bytes.Length - 10 })
        {
            File.WriteAllBytes(path, bytes[..length]);
            ModelFileException ex = Assert.Throws<ModelFileException>(() => ModelPackage.Load(path));
            Assert.Equal(path, ex.FilePath);
        }
    }

    [Fact]
    public void Load_CorruptBytes_Throw_AndNotAZip_Throws()
    {
        using TempDir t = new();
        string path = Path.Combine(t.Path, "m.ddmodel");
        Sample().Save(path);
        byte[] good = File.ReadAllBytes(path);
        int failures = 0;
        for (int offset = 0; offset < good.Length; offset += 7)
        {
            byte[] bad = (byte[])good.Clone();
            bad[offset] ^= 0x5A;
            File.WriteAllBytes(path, bad);
            try
            {
                ModelPackage.Load(path);
            }
            catch (ModelFileException)
            {
                failures++;
            }
        }

        // Some flipped bytes sit in unused zip header fields; most must be caught, none may escape as another exception.
        Assert.True(failures > 0);

        File.WriteAllText(path, "not a zip at all");
        Assert.Throws<ModelFileException>(() => ModelPackage.Load(path));
        Assert.Throws<ModelFileException>(() => ModelPackage.Load(Path.Combine(t.Path, "missing.ddmodel")));
    }

    [Fact]
    public void Load_TamperedTensor_FailsTheHashCheck()
    {
        using TempDir t = new();
        string path = Path.Combine(t.Path, "m.ddmodel");
        Sample().Save(path);
        using (ZipArchive zip = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            zip.GetEntry("tensors/head/bias.f32")!.Delete();
            using Stream s = zip.CreateEntry("tensors/head/bias.f32").Open();
            s.Write([.. BitConverter.GetBytes(9f), .. BitConverter.GetBytes(9f)]);
        }

        ModelFileException ex = Assert.Throws<ModelFileException>(() => ModelPackage.Load(path));
        Assert.Equal("tensors/head/bias.f32", ex.Entry);
        Assert.Contains("SHA-256", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NewerFormatVersion_SaysToUpdate()
    {
        using TempDir t = new();
        string path = Path.Combine(t.Path, "future.ddmodel");
        using (ZipArchive zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using Stream s = zip.CreateEntry("manifest.json").Open();
            s.Write(Encoding.UTF8.GetBytes("""{"format_version": 3, "library_version": "9.0.0", "something_new": {}}"""));
        }

        ModelFileException ex = Assert.Throws<ModelFileException>(() => ModelPackage.Load(path));
        Assert.Contains("format version 3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("9.0.0", ex.Message, StringComparison.Ordinal);
        Assert.Contains("update", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ModelFileException>(() => ModelPackage.ReadManifest(path));
    }

    [Fact]
    public void Load_BackboneHashMismatch_Throws_AndMatchPasses()
    {
        using TempDir t = new();
        string backbone = t.File("backbone.onnx", "the real backbone");
        string other = t.File("other.onnx", "a different backbone");
        string hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(backbone)));
        Assert.Equal(hash, ModelPackage.ComputeSha256(backbone));
        string path = Path.Combine(t.Path, "m.ddmodel");
        Sample(backboneHash: hash).Save(path);

        Assert.NotNull(ModelPackage.Load(path, new ModelLoadOptions { BackbonePath = backbone }));
        Assert.NotNull(ModelPackage.Load(path, new ModelLoadOptions { BackboneSha256 = hash.ToUpperInvariant() }));
        ModelFileException ex = Assert.Throws<ModelFileException>(() => ModelPackage.Load(path, new ModelLoadOptions { BackbonePath = other }));
        Assert.Contains(hash, ex.Message, StringComparison.Ordinal);
        Assert.Contains("other.onnx", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ModelFileException>(() => ModelPackage.Load(path, new ModelLoadOptions { BackboneSha256 = new string('0', 64) }));
    }

    [Fact]
    public void EmbeddedBackbone_RoundTrips_WithItsHash()
    {
        using TempDir t = new();
        byte[] onnx = Encoding.UTF8.GetBytes("pretend onnx bytes");
        string path = Path.Combine(t.Path, "m.ddmodel");
        Sample(backbone: onnx).Save(path);
        ModelPackage back = ModelPackage.Load(path);
        Assert.Equal(onnx, back.EmbeddedBackbone);
        Assert.True(back.Manifest.Backbone!.Embedded);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(onnx)), back.Manifest.Backbone.Sha256);
    }

    [Fact]
    public void BadTensorNamesAndShapes_Throw()
    {
        Assert.Throws<ArgumentException>(() => new ModelTensor([2, 2], [1f]));
        Assert.Throws<ArgumentException>(() => new ModelTensor([-1], []));
        Assert.Throws<ArgumentException>(() => new ModelPackage(new ModelManifest(), new Dictionary<string, ModelTensor> { ["../x"] = new([1], [1f]) }));
        Assert.Throws<ArgumentException>(() => new ModelPackage(new ModelManifest(), new Dictionary<string, ModelTensor> { ["a//b"] = new([1], [1f]) }));
    }

    [Fact]
    public void TrainingDataSummary_FromDataset_CountsPerLabel()
    {
        DefectDetection.Datasets.ImageDataset ds = new(
            [new("/a.jpg", "normal"), new("/b.jpg", "normal"), new("/c.jpg", "anomaly")], ["normal", "anomaly", "other"]);
        TrainingDataSummary s = TrainingDataSummary.FromDataset(ds, "list.csv");
        Assert.Equal(3, s.ImageCount);
        Assert.Equal(2, s.PerLabel["normal"]);
        Assert.Equal(0, s.PerLabel["other"]);
        Assert.Equal("list.csv", s.Source);
    }
}
