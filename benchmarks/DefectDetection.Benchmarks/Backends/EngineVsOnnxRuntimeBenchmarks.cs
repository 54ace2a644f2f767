using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using DefectDetection.Onnx;
using DefectDetection.OnnxRuntime;

namespace DefectDetection.Benchmarks.Backends;

/// <summary>
/// In one process and one run: the managed engine (baseline) and ONNX Runtime (DefectDetection.OnnxRuntime, all graph
/// optimisations, <see cref="Threads"/> intra-op threads, 1 inter-op thread) on the same model, the same input and the
/// same thread count, through the same <see cref="IOnnxSession"/> interface the library uses. Cases: MobileNetV2-int8
/// QDQ batch 1 and 16 and YOLOX-nano (../shared, their reference inputs), and ML.NET's ResNet-18 (float, NuGet package
/// Microsoft.ML.DnnImageFeaturizer.ResNet18) on a deterministic random input. The Ratio column is ONNX Runtime's time
/// over ours (below 1: ONNX Runtime is faster).
/// <code>dotnet run -c Release --project benchmarks/DefectDetection.Benchmarks -- --filter '*EngineVsOnnxRuntime*'</code>
/// </summary>
[Config(typeof(Config))]
public class EngineVsOnnxRuntimeBenchmarks
{
    private IOnnxSession _managed = null!;
    private IOnnxSession _ort = null!;
    private Dictionary<string, OnnxTensor> _inputs = null!;

    /// <summary>The model and batch.</summary>
    [Params("mobilenetv2-int8 b1", "mobilenetv2-int8 b16", "yolox-nano b1", "resnet18-mlnet b1")]
    public string Case { get; set; } = "";

    /// <summary>Intra-op threads of both engines.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (string path, string input, int batch, int channels, int size, string? sample) = Case switch
        {
            "mobilenetv2-int8 b1" => (Shared("models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx"), "input", 1, 3, 224, Shared("models", "mobilenetv2-int8", "samples", "goldfish.input.f32")),
            "mobilenetv2-int8 b16" => (Shared("models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx"), "input", 16, 3, 224, Shared("models", "mobilenetv2-int8", "samples", "goldfish.input.f32")),
            "yolox-nano b1" => (Shared("models", "yolox-nano", "yolox-nano.onnx"), "images", 1, 3, 416, Shared("models", "yolox-nano", "samples", "coco-000000000285.input.f32")),
            "resnet18-mlnet b1" => (ResNet18(), "", 1, 3, 224, (string?)null),
            _ => throw new ArgumentOutOfRangeException(nameof(Case), Case, "Unknown case."),
        };

        OnnxModel model = OnnxModel.Load(path);
        input = model.Inputs[0].Name;
        int per = channels * size * size;
        float[] data = new float[batch * per];
        if (sample is not null)
        {
            byte[] bytes = File.ReadAllBytes(sample);
            for (int b = 0; b < batch; b++)
            {
                Buffer.BlockCopy(bytes, 0, data, b * per * 4, per * 4);
            }
        }
        else
        {
            Random rng = new(1);
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = (float)((rng.NextDouble() * 255) - 128);
            }
        }

        _inputs = new Dictionary<string, OnnxTensor> { [input] = new OnnxTensor<float>(data, [batch, channels, size, size]) };
        OnnxSessionOptions options = new() { IntraOpThreads = Threads };
        _managed = OnnxBackends.Managed.CreateSession(model, options);
        _ort = new OnnxRuntimeBackend().CreateSession(model, options);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _managed.Dispose();
        _ort.Dispose();
    }

    [Benchmark(Baseline = true, Description = "managed engine")]
    public int Managed() => _managed.Run(_inputs).Count;

    [Benchmark(Description = "ONNX Runtime")]
    public int OnnxRuntime() => _ort.Run(_inputs).Count;

    private static string Shared(params string[] parts)
    {
        string root = Environment.GetEnvironmentVariable("DEFECT_SHARED_DIR") ?? FindShared();
        string path = Path.Combine([root, .. parts]);
        return File.Exists(path) ? path : throw new FileNotFoundException($"Shared file missing: {path}", path);
    }

    private static string FindShared()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "DefectDetection.Core.sln")))
            {
                return Path.GetFullPath(Path.Combine(dir, "..", "shared"));
            }
        }

        return Path.GetFullPath(Path.Combine("..", "shared"));
    }

    private static string ResNet18()
    {
        string home = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(home, "microsoft.ml.dnnimagefeaturizer.resnet18", "0.24.0", "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        return File.Exists(path) ? path : throw new FileNotFoundException($"ML.NET's ResNet-18 is not at {path}; restore the benchmarks project.", path);
    }

    /// <summary>In-process jobs (no generated project: both engines share the process), the memory diagnoser and a ratio column.</summary>
    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(6).WithIterationCount(12).WithId("InProcess"));
            AddDiagnoser(MemoryDiagnoser.Default);
            AddColumn(BaselineRatioColumn.RatioMean);
            WithOptions(ConfigOptions.JoinSummary);
        }
    }
}
