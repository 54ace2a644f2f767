using DefectDetection.ModelFiles;

namespace DefectDetection.Vision.Tests.Models;

/// <summary>Settings read back from a model file obey the rules of the trainer's options: an edited file is refused, not scored differently.</summary>
public sealed class ManifestValidationTests : IDisposable
{
    private static readonly string Fixture = Path.Combine(SharedData.RepoRoot, "tests", "fixtures", "models", "v0.1", "patchcore-v1.ddmodel");
    private readonly string _dir = Directory.CreateTempSubdirectory("manifest-validation-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SharedTheory]
    [InlineData("neighbourhood", "4", "Neighbourhood")]
    [InlineData("neighbourhood", "-3", "Neighbourhood")]
    [InlineData("border_patches", "99", "BorderPatches")]
    [InlineData("image_score_top_k", "2", "image_score_top_k")]
    [InlineData("standardize_images", "true", "standardize_images")]
    [InlineData("reweight_neighbours", "3", "reweight_neighbours")]
    [InlineData("map_sigma", "-1", "MapSigma")]
    [InlineData("map_sigma", "NaN", "MapSigma")]
    [InlineData("min_region_area", "0", "MinRegionArea")]
    [InlineData("coreset_ratio", "7", "CoresetRatio")]
    [InlineData("confidence_scale", "-2", "confidence_scale")]
    [InlineData("confidence_scale", "Infinity", "confidence_scale")]
    [InlineData("calibration_scores", "1 NaN", "calibration_scores")]
    public void OutOfRangeSettingsAreRefusedNamingTheField(string property, string value, string named)
    {
        ModelPackage original = ModelPackage.Load(Fixture);
        ModelManifest m = original.Manifest;
        Dictionary<string, string> properties = new(m.Properties) { [property] = value };
        string edited = Path.Combine(_dir, "edited.ddmodel");
        new ModelPackage(
            new ModelManifest { Task = m.Task, Labels = m.Labels, Preprocessing = m.Preprocessing, Backbone = m.Backbone, Threshold = m.Threshold, Properties = properties, CreatedUtc = m.CreatedUtc },
            original.Tensors).Save(edited);
        ModelFileException e = Assert.Throws<ModelFileException>(() => DefectModel.Load(edited, new DefectModelLoadOptions { BackbonePath = SharedData.MobileNetV2Qdq }));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
        Assert.Contains("edited.ddmodel", e.Message, StringComparison.Ordinal);

        // The unedited settings load.
        using IDefectModel model = DefectModel.Load(Fixture, new DefectModelLoadOptions { BackbonePath = SharedData.MobileNetV2Qdq });
        Assert.Equal(Learners.PatchCore, model.Learner);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(0.0)]
    [InlineData(1.5)]
    [InlineData(double.PositiveInfinity)]
    public void AClassifierThresholdOutsideItsRangeIsRefused(double threshold)
    {
        string fixture = Path.Combine(SharedData.RepoRoot, "tests", "fixtures", "models", "v0.1", "classifier-weightfree.ddmodel");
        ModelPackage original = ModelPackage.Load(fixture);
        ModelManifest m = original.Manifest;
        string edited = Path.Combine(_dir, "classifier.ddmodel");
        new ModelPackage(
            new ModelManifest { Task = m.Task, Labels = m.Labels, Preprocessing = m.Preprocessing, Backbone = m.Backbone, Threshold = threshold, TrainingData = m.TrainingData, Properties = m.Properties, CreatedUtc = m.CreatedUtc },
            original.Tensors).Save(edited);
        ModelFileException e = Assert.Throws<ModelFileException>(() => DefectModel.Load(edited));
        Assert.Contains("threshold", e.Message, StringComparison.Ordinal);
        Assert.Contains("probability", e.Message, StringComparison.Ordinal);
    }
}
