using System.Text.Json.Serialization;

namespace DefectDetection.Projects;

/// <summary>The JSON the catalog stores in its text columns (configurations, metrics, located defects).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ModelConfiguration))]
[JsonSerializable(typeof(StoredMetrics))]
[JsonSerializable(typeof(List<TrialDefect>))]
internal sealed partial class ProjectJsonContext : JsonSerializerContext;

/// <summary>The stored form of <see cref="TestMetrics"/>.</summary>
internal sealed record StoredMetrics(int Images, int TruePositives, int FalsePositives, int TrueNegatives, int FalseNegatives, double LabelAccuracy, double? RocAuc)
{
    public TestMetrics ToMetrics() => new(Images, TruePositives, FalsePositives, TrueNegatives, FalseNegatives, LabelAccuracy, RocAuc);

    public static StoredMetrics From(TestMetrics m) => new(m.Images, m.TruePositives, m.FalsePositives, m.TrueNegatives, m.FalseNegatives, m.LabelAccuracy, m.RocAuc);
}
