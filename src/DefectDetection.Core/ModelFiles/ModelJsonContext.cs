using System.Text.Json.Serialization;

namespace DefectDetection.ModelFiles;

/// <summary>
/// Source-generated JSON contract of the model manifest: snake_case names. Reading is strict: a field this library
/// does not know, a field given twice and a null where the contract has no null all fail (see
/// <see cref="ModelManifestReader"/>, which reports them with their JSON path before deserialising).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectNullableAnnotations = true,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(ModelManifest))]
internal sealed partial class ModelJsonContext : JsonSerializerContext
{
}
