using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using DefectDetection.Onnx;
using DefectDetection.Onnx.Model.Proto;
using Google.Protobuf;

namespace DefectDetection.Benchmarks.Onnx;

/// <summary>
/// Load, session creation and first run of long generated chains (alternating Relu and Add on a float[4], one
/// thread): how the engine's start-up scales with the node count. Each iteration is one cold operation.
/// </summary>
[Config(typeof(LargeGraphBenchmarks.Config))]
public class LargeGraphBenchmarks
{
    private static readonly OnnxSessionOptions OneThread = new() { IntraOpThreads = 1 };
    private byte[] _bytes = [];
    private OnnxModel? _model;
    private OnnxSession? _session;
    private Dictionary<string, OnnxTensor> _feeds = [];

    [Params(10_000, 40_000, 80_000, 200_000)]
    public int Nodes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _bytes = LongChain(Nodes);
        _model = OnnxModel.Load(_bytes);
        _feeds = new Dictionary<string, OnnxTensor> { ["x"] = new OnnxTensor<float>([1, -2, 3, 0], [4]) };
    }

    [Benchmark]
    public OnnxModel Load() => OnnxModel.Load(_bytes);

    [Benchmark]
    public void CreateSession()
    {
        using var session = new OnnxSession(_model!, OneThread);
    }

    [IterationSetup(Target = nameof(FirstRun))]
    public void CreateForFirstRun() => _session = new OnnxSession(_model!, OneThread);

    [IterationCleanup(Target = nameof(FirstRun))]
    public void DisposeAfterFirstRun() => _session?.Dispose();

    [Benchmark]
    public IReadOnlyDictionary<string, OnnxTensor> FirstRun() => _session!.Run(_feeds);

    /// <summary>One launch, one warm-up and 5 measured iterations of one cold operation each; memory diagnoser.</summary>
    public sealed class Config : ManualConfig
    {
        public Config()
        {
            BenchmarkJobs.AddUnlessCommandLine(this, Job.Default.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(5).WithId("Cold"));
            AddDiagnoser(MemoryDiagnoser.Default);
        }
    }

    /// <summary>A chain of <paramref name="nodes"/> nodes from "x" to "y" (float[4]): Relu, Add "c" = [1, 1, 1, 1], Relu, ...</summary>
    internal static byte[] LongChain(int nodes)
    {
        static ValueInfoProto Value(string name) => new()
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimValue = 4 } } } } },
        };

        var graph = new GraphProto { Name = "chain" };
        graph.Input.Add(Value("x"));
        graph.Output.Add(Value("y"));
        float[] ones = [1f, 1f, 1f, 1f];
        var c = new TensorProto { Name = "c", DataType = (int)TensorProto.Types.DataType.Float, Dims = { 4 }, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(ones.AsSpan())) };
        graph.Initializer.Add(c);
        string previous = "x";
        for (int i = 0; i < nodes; i++)
        {
            string output = i == nodes - 1 ? "y" : "t" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string op = i % 2 == 0 ? "Relu" : "Add";
            var node = new NodeProto { OpType = op, Name = op + "_" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            node.Input.Add(previous);
            if (i % 2 == 1)
            {
                node.Input.Add("c");
            }

            node.Output.Add(output);
            graph.Node.Add(node);
            previous = output;
        }

        var model = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "benchmarks" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model.ToByteArray();
    }
}
