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
        // The fixture is of format version 1: its settings are strings in "properties".
        string edited = Path.Combine(_dir, "edited.ddmodel");
        ModelFileEdits.EditManifest(Fixture, edited, m => m["properties"]![property] = value);
        ModelFileException e = Assert.Throws<ModelFileException>(() => DefectModel.Load(edited, new DefectModelLoadOptions { BackbonePath = SharedData.MobileNetV2Qdq }));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
        Assert.Contains("edited.ddmodel", e.Message, StringComparison.Ordinal);

        // The unedited settings load.
        using IDefectModel model = DefectModel.Load(Fixture, new DefectModelLoadOptions { BackbonePath = SharedData.MobileNetV2Qdq });
        Assert.Equal(Learners.PatchCore, model.Learner);
    }

    [SharedTheory]
    [InlineData("neighbourhood", "4", "Neighbourhood")]
    [InlineData("border_patches", "99", "BorderPatches")]
    [InlineData("map_sigma", "-1", "MapSigma")]
    [InlineData("map_sigma", "\"NaN\"", "MapSigma")]
    [InlineData("min_region_area", "0", "MinRegionArea")]
    [InlineData("coreset_ratio", "7", "CoresetRatio")]
    [InlineData("confidence_scale", "-2", "confidence_scale")]
    [InlineData("calibration_scores", "[1, \"NaN\"]", "calibration_scores")]
    [InlineData("context_model", "[1, 2]", "context_model")]
    [InlineData("nearest_images", "-1", "NearestImages")]
    [InlineData("tiles", "9", "Tiles")]
    [InlineData("image_score_top_k", "2", "does not know the field")]
    public void OutOfRangeSectionValuesAreRefusedNamingTheField(string field, string json, string named)
    {
        // The current format: the fixture loaded and saved again, then its PatchCore section edited.
        string current = Path.Combine(_dir, "current.ddmodel");
        using (IDefectModel old = DefectModel.Load(Fixture, new DefectModelLoadOptions { BackbonePath = SharedData.MobileNetV2Qdq }))
        {
            old.Save(current);
        }

        string edited = Path.Combine(_dir, "edited-v2.ddmodel");
        ModelFileEdits.EditManifest(current, edited, m => m["patchcore"]![field] = System.Text.Json.Nodes.JsonNode.Parse(json));
        ModelFileException e = Assert.Throws<ModelFileException>(() => DefectModel.Load(edited));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
        Assert.Contains("$.patchcore", e.Message, StringComparison.Ordinal);
        Assert.Contains("edited-v2.ddmodel", e.Message, StringComparison.Ordinal);
        using IDefectModel model = DefectModel.Load(current);
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
        string edited = Path.Combine(_dir, "classifier.ddmodel");
        ModelFileEdits.EditManifest(fixture, edited, m => m["threshold"] = double.IsFinite(threshold) ? threshold : threshold.ToString(System.Globalization.CultureInfo.InvariantCulture));
        ModelFileException e = Assert.Throws<ModelFileException>(() => DefectModel.Load(edited));
        Assert.Contains("threshold", e.Message, StringComparison.Ordinal);
        Assert.Contains("probability", e.Message, StringComparison.Ordinal);
    }
}
