using DefectDetection.Onnx;

namespace DefectDetection.Fuzzing;

/// <summary>
/// <see cref="OnnxModel.Load(ReadOnlySpan{byte}, string?)"/> on bytes (no external data); documents
/// <see cref="OnnxModelException"/>. Seeded from small conformance fixtures of the repository.
/// </summary>
internal sealed class OnnxTarget : FuzzTarget
{
    private static readonly string[] SeedCases = ["add_int32", "gather_axis1_2d_indices", "convtranspose_dilation2", "reducemax_int64", "max_variadic3"];

    public override string Name => "onnx";

    public override InputKind Kind => InputKind.Bytes;

    public override IReadOnlyList<byte[]> Seeds() =>
        [.. SeedCases.Select(c => File.ReadAllBytes(Path.Combine(RepoRoot, "tests", "DefectDetection.Onnx.Tests", "Fixtures", "conformance", c, "model.onnx")))];

    public override void Run(byte[] input) => OnnxModel.Load(input, baseDirectory: null);

    public override bool IsDocumented(Exception e) => e is OnnxModelException;
}
