using BenchmarkDotNet.Attributes;
using DefectDetection.Onnx;

namespace DefectDetection.Benchmarks.Onnx;

/// <summary>
/// Batch parallelism (OnnxSessionOptions.BatchParallelism) on batched inputs of the shared models, their input shapes
/// freed: the batch split into slices (as the session decides, but at any efficiency), one item per slice, and
/// unsplit (BatchParallelism.Off, the baseline), on 2 threads. The split decision is written to the log in the setup.
/// </summary>
[Config(typeof(SessionBenchmarkConfig))]
public class BatchSplitBenchmarks
{
    private OnnxSession? _split, _items, _whole;
    private Dictionary<string, OnnxTensor> _feeds = [];

    public static IEnumerable<ModelInput> Inputs { get; } =
    [
        ModelInput.MobileNetV2Int8Qdq(16), ModelInput.MobileNetV2Int8Qdq(16, 64), ModelInput.MobileNetV2Int8Qdq(3, 64),
        ModelInput.YoloxNano(2), ModelInput.YoloxNano(4),
    ];

    [ParamsSource(nameof(Inputs))]
    public ModelInput Input { get; set; } = ModelInput.MobileNetV2Int8Qdq(16);

    [Params(2)]
    public int Threads { get; set; } = 2;

    [GlobalSetup]
    public void Setup()
    {
        // The shared models fix their input shapes (batch 1 for YOLOX, 224 for MobileNetV2): free them.
        var proto = DefectDetection.Onnx.Model.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Input.Path));
        foreach (var dim in proto.Graph.Input.SelectMany(i => i.Type.TensorType.Shape.Dim))
        {
            dim.DimParam = "dynamic";
        }

        OnnxModel model = OnnxModel.Load(Google.Protobuf.MessageExtensions.ToByteArray(proto), Path.GetDirectoryName(Input.Path));
        _split = new OnnxSession(model, new OnnxSessionOptions { IntraOpThreads = Threads });
        _items = new OnnxSession(model, new OnnxSessionOptions { IntraOpThreads = Threads });
        _whole = new OnnxSession(model, new OnnxSessionOptions { IntraOpThreads = Threads, BatchParallelism = BatchParallelism.Off });
        _split.Core.MinSplitEfficiency = 0;
        _items.Core.MinSplitEfficiency = 0;
        _items.Core.SliceBudgetBytes = 1; // one item per slice
        _feeds = Input.Feeds();
        _split.Run(_feeds);
        var plan = _split.Core.SplitFor(Input.Shape);
        Console.WriteLine($"// {Input}: " + (plan is null ? "not considered" : plan.Separable
            ? $"split {string.Join("+", plan.Counts)}, {(plan.Plans[0].ArenaBytes + plan.Plans[0].ScratchBytes) / 1024} KiB per slice"
            : "not split: " + plan.Reason));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _split?.Dispose();
        _items?.Dispose();
        _whole?.Dispose();
    }

    [Benchmark]
    public IReadOnlyDictionary<string, OnnxTensor> Split() => _split!.Run(_feeds);

    [Benchmark]
    public IReadOnlyDictionary<string, OnnxTensor> OneItemSlices() => _items!.Run(_feeds);

    [Benchmark(Baseline = true)]
    public IReadOnlyDictionary<string, OnnxTensor> Unsplit() => _whole!.Run(_feeds);
}
