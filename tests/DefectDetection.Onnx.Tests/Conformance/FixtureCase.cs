using System.Runtime.InteropServices;
using System.Text.Json;
using DefectDetection.Testing;

namespace DefectDetection.Onnx.Tests.Conformance;

/// <summary>
/// One conformance case on disk (written by tools/OnnxConformance, expected outputs by ONNX Runtime through
/// tools/ort/run-fixtures.js): model.onnx, case.json + input.N.bin, expected.json + expected.N.bin.
/// </summary>
internal sealed class FixtureCase
{
    private FixtureCase(string name, string folder, JsonElement spec, JsonElement? expected)
    {
        Name = name;
        Folder = folder;
        Spec = spec;
        Expected = expected;
    }

    /// <summary>tests/DefectDetection.Onnx.Tests/Fixtures/conformance in the repository.</summary>
    public static string Root { get; } = Path.Combine(SharedData.RepoRoot, "tests", "DefectDetection.Onnx.Tests", "Fixtures", "conformance");

    public string Name { get; }

    public string Folder { get; }

    public string ModelPath => Path.Combine(Folder, "model.onnx");

    public JsonElement Spec { get; }

    public JsonElement? Expected { get; }

    public double AbsTolerance => Spec.GetProperty("tolerance").GetProperty("abs").GetDouble();

    public double RelTolerance => Spec.GetProperty("tolerance").GetProperty("rel").GetDouble();

    public int StepTolerance => Spec.GetProperty("tolerance").GetProperty("steps").GetInt32();

    public static IEnumerable<string> Names() =>
        Directory.Exists(Root)
            ? Directory.GetDirectories(Root).Where(d => File.Exists(Path.Combine(d, "case.json"))).Select(Path.GetFileName).Order(StringComparer.Ordinal)!
            : [];

    public static FixtureCase Load(string name)
    {
        string folder = Path.Combine(Root, name);
        JsonElement spec = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "case.json"))).RootElement;
        string expectedPath = Path.Combine(folder, "expected.json");
        JsonElement? expected = File.Exists(expectedPath) ? JsonDocument.Parse(File.ReadAllText(expectedPath)).RootElement : null;
        return new FixtureCase(name, folder, spec, expected);
    }

    public Dictionary<string, OnnxTensor> ReadInputs() =>
        Spec.GetProperty("inputs").EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!, ReadTensor, StringComparer.Ordinal);

    public List<(string Name, OnnxTensor OnnxTensor)> ReadExpected()
    {
        JsonElement e = Expected ?? throw new InvalidOperationException(
            $"case {Name} has no expected.json: run `node tools/ort/run-fixtures.js {Path.GetRelativePath(SharedData.RepoRoot, Root)}` (see tools/README.md)");
        return e.GetProperty("outputs").EnumerateArray().Select(o => (o.GetProperty("name").GetString()!, ReadTensor(o))).ToList();
    }

    private OnnxTensor ReadTensor(JsonElement info)
    {
        string type = info.GetProperty("type").GetString()!;
        int[] shape = info.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        byte[] bytes = File.ReadAllBytes(Path.Combine(Folder, info.GetProperty("file").GetString()!));
        return type switch
        {
            "float32" => Make<float>(bytes, shape),
            "float64" => Make<double>(bytes, shape),
            "float16" => Make<Half>(bytes, shape),
            "uint8" => Make<byte>(bytes, shape),
            "int8" => Make<sbyte>(bytes, shape),
            "int16" => Make<short>(bytes, shape),
            "uint16" => Make<ushort>(bytes, shape),
            "int32" => Make<int>(bytes, shape),
            "uint32" => Make<uint>(bytes, shape),
            "int64" => Make<long>(bytes, shape),
            "uint64" => Make<ulong>(bytes, shape),
            "bool" => new OnnxTensor<bool>(bytes.Select(b => b != 0).ToArray(), shape),
            _ => throw new InvalidDataException($"case {Name}: unknown tensor type {type}"),
        };
    }

    private OnnxTensor<T> Make<T>(byte[] bytes, int[] shape)
        where T : unmanaged
    {
        T[] data = MemoryMarshal.Cast<byte, T>(bytes).ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (data.Length != count || bytes.Length % Marshal.SizeOf<T>() != 0)
        {
            throw new InvalidDataException($"case {Name}: {bytes.Length} bytes do not hold [{string.Join(",", shape)}] {typeof(T).Name}");
        }

        return new OnnxTensor<T>(data, shape);
    }
}
