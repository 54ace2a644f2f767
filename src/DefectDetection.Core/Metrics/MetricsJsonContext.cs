using System.Text.Json.Serialization;

namespace DefectDetection.Metrics;

/// <summary>Source-generated JSON contract of the metric types: snake_case names, NaN as a named literal.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(ClassificationMetrics))]
[JsonSerializable(typeof(DetectionMetrics))]
internal sealed partial class MetricsJsonContext : JsonSerializerContext
{
}
