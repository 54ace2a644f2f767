using BenchmarkDotNet.Attributes;
using DefectDetection.Onnx;

namespace DefectDetection.Benchmarks.Onnx;

/// <summary>
/// Time per image at batch 1 of the shared int8 MobileNetV2 (QDQ and dynamic) and YOLOX-nano on 1 and 2 intra-op
/// threads (default session options). The per-operator split of the same runs: the <c>onnx-profile</c> command.
/// </summary>
[Config(typeof(SessionBenchmarkConfig))]
public class SessionBenchmarks
{
    private OnnxSession? _session;
    private Dictionary<string, OnnxTensor> _feeds = [];

    public static IEnumerable<ModelInput> Models { get; } = [ModelInput.MobileNetV2Int8Qdq(), ModelInput.MobileNetV2Int8Dynamic(), ModelInput.YoloxNano()];

    [ParamsSource(nameof(Models))]
    public ModelInput Model { get; set; } = ModelInput.MobileNetV2Int8Qdq();

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        _session = new OnnxSession(Model.Path, new OnnxSessionOptions { IntraOpThreads = Threads });
        _feeds = Model.Feeds();
    }

    [GlobalCleanup]
    public void Cleanup() => _session?.Dispose();

    [Benchmark]
    public IReadOnlyDictionary<string, OnnxTensor> Run() => _session!.Run(_feeds);
}
