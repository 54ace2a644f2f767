using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using DefectDetection.Benchmarks.Imaging;
using DefectDetection.Onnx;

namespace DefectDetection.Benchmarks.Onnx;

/// <summary>A model of ../shared/models with the input it is timed on (deterministic random values in [0, 1)).</summary>
public sealed record ModelInput(string Folder, string File, string InputName, int[] Shape) : IComparable
{
    public static ModelInput MobileNetV2Int8Qdq(int batch = 1, int size = 224) => new("mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx", "input", [batch, 3, size, size]);

    public static ModelInput MobileNetV2Int8Dynamic(int batch = 1) => new("mobilenetv2-int8", "mobilenetv2-int8-dynamic.onnx", "input", [batch, 3, 224, 224]);

    public static ModelInput YoloxNano(int batch = 1) => new("yolox-nano", "yolox-nano.onnx", "images", [batch, 3, 416, 416]);

    /// <summary>The model file's full path.</summary>
    public string Path => System.IO.Path.Combine(JpegBenchmarkFiles.SharedRoot(), "models", Folder, File);

    /// <summary>The feeds: the input filled from Random(1), as the tests' timing reports did.</summary>
    public Dictionary<string, OnnxTensor> Feeds()
    {
        var input = new OnnxTensor<float>(Shape);
        var rng = new Random(1);
        for (int i = 0; i < input.Length; i++)
        {
            input.Span[i] = (float)rng.NextDouble();
        }

        return new Dictionary<string, OnnxTensor> { [InputName] = input };
    }

    public override string ToString() => $"{System.IO.Path.GetFileNameWithoutExtension(File)} [{string.Join(",", Shape)}]";

    // Tables in the order of the file names, then of the input shapes.
    public int CompareTo(object? obj)
    {
        if (obj is not ModelInput other)
        {
            return 1;
        }

        int byFile = string.CompareOrdinal(File, other.File);
        return byFile != 0 ? byFile : Shape.AsSpan().SequenceCompareTo(other.Shape);
    }
}

/// <summary>
/// Whole-session benchmarks: one launch, 8 warm-up iterations (at least 4 s, so that every kernel is past tiered
/// compilation), 10 measured iterations, memory diagnoser.
/// </summary>
public sealed class SessionBenchmarkConfig : ManualConfig
{
    public SessionBenchmarkConfig()
    {
        BenchmarkJobs.AddUnlessCommandLine(this, Job.Default.WithLaunchCount(1).WithWarmupCount(8).WithIterationCount(10).WithId("Session"));
        AddDiagnoser(MemoryDiagnoser.Default);
        WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(40));
    }
}
