using BenchmarkDotNet.Attributes;
using DefectDetection.Onnx.Kernels.Conv;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Benchmarks.Onnx;

/// <summary>
/// The int8 GEMM convolutions of MobileNetV2 (the 3x3 stride-2 stem and every pointwise layer at batch 1, six
/// pointwise layers at batch 8; random weights and input, per-channel scales, clamped output): the default kernel
/// against the same kernel with one fast path switched off (see <see cref="Int8KernelPaths"/>), one thread, and the
/// default on two threads.
/// </summary>
[Config(typeof(KernelVariantBenchmarkConfig))]
public class Int8PointwiseBenchmarks
{
    private Conv2dInt8? _default, _noNarrowEdge, _noBytePairPack, _noVbmiNarrowing, _noBatchPacking;
    private byte[] _x = [], _y = [], _scratch = [];
    private IntraOpThreadPool? _pool2;

    public static IEnumerable<GemmConvLayer> Layers { get; } =
    [
        new(3, 32, 3, 2, 224, 1), new(32, 16, 1, 1, 112, 1), new(16, 96, 1, 1, 112, 1), new(96, 24, 1, 1, 56, 1), new(24, 144, 1, 1, 56, 1),
        new(144, 24, 1, 1, 56, 1), new(144, 32, 1, 1, 28, 1), new(32, 192, 1, 1, 28, 1), new(192, 32, 1, 1, 28, 1), new(192, 64, 1, 1, 14, 1),
        new(64, 384, 1, 1, 14, 1), new(384, 64, 1, 1, 14, 1), new(384, 96, 1, 1, 14, 1), new(96, 576, 1, 1, 14, 1), new(576, 96, 1, 1, 14, 1),
        new(576, 160, 1, 1, 7, 1), new(160, 960, 1, 1, 7, 1), new(960, 160, 1, 1, 7, 1), new(960, 320, 1, 1, 7, 1), new(320, 1280, 1, 1, 7, 1),
        new(32, 192, 1, 1, 28, 8), new(96, 576, 1, 1, 14, 8), new(576, 96, 1, 1, 14, 8), new(160, 960, 1, 1, 7, 8), new(960, 160, 1, 1, 7, 8),
        new(320, 1280, 1, 1, 7, 8),
    ];

    [ParamsSource(nameof(Layers))]
    public GemmConvLayer Layer { get; set; } = new(3, 32, 3, 2, 224, 1);

    [GlobalSetup]
    public void Setup()
    {
        var l = Layer;
        var shape = l.Shape;
        var rng = new Random(1);
        byte[] wb = new byte[l.M * l.C * l.K * l.K];
        rng.NextBytes(wb);
        _x = new byte[l.N * l.C * l.H * l.H];
        rng.NextBytes(_x);
        int oh = shape.OutputHeight(l.H);
        _y = new byte[l.N * l.M * oh * oh];
        sbyte[] w = Array.ConvertAll(wb, v => (sbyte)v);
        int[] bias = Enumerable.Range(0, l.M).ToArray();
        var requant = new Requantization(Enumerable.Repeat(0.001f, l.M).ToArray(), 5, false, 5, 200);
        Conv2dInt8 Create(Int8KernelPaths paths) => new(shape, w, [0], bias, 3, requant, paths);
        _default = Create(Int8KernelPaths.All);
        _noNarrowEdge = Create(Int8KernelPaths.All & ~Int8KernelPaths.NarrowEdge);
        _noBytePairPack = Create(Int8KernelPaths.All & ~Int8KernelPaths.BytePairPack);
        _noVbmiNarrowing = Create(Int8KernelPaths.All & ~Int8KernelPaths.VbmiNarrowing);
        _noBatchPacking = Create(Int8KernelPaths.All & ~Int8KernelPaths.BatchPacking);
        _scratch = new byte[new[] { _default, _noBatchPacking }.Max(c => c.ScratchBytes(l.N, l.H, l.H))];
        _pool2 = new IntraOpThreadPool(2);
    }

    [GlobalCleanup]
    public void Cleanup() => _pool2?.Dispose();

    [Benchmark(Baseline = true)]
    public void Default() => Run(_default!, null);

    [Benchmark]
    public void WithoutNarrowEdge() => Run(_noNarrowEdge!, null);

    [Benchmark]
    public void WithoutBytePairPack() => Run(_noBytePairPack!, null);

    [Benchmark]
    public void WithoutVbmiNarrowing() => Run(_noVbmiNarrowing!, null);

    [Benchmark]
    public void WithoutBatchPacking() => Run(_noBatchPacking!, null);

    [Benchmark]
    public void DefaultTwoThreads() => Run(_default!, _pool2);

    private void Run(Conv2dInt8 conv, IntraOpThreadPool? pool) => conv.Run(_x, Layer.N, Layer.H, Layer.H, _y, _scratch, pool);

    /// <summary>C -> M channels, K x K kernel, stride S, pad K / 2, on H x H planes, batch N.</summary>
    public sealed record GemmConvLayer(int C, int M, int K, int S, int H, int N) : IOperationCount, IComparable
    {
        internal Conv2dShape Shape => new(C, M, 1, K, K, S, S, 1, 1, K / 2, K / 2, K / 2, K / 2);

        public double Operations => 2.0 * M * C * K * K * Shape.OutputHeight(H) * Shape.OutputWidth(H) * N;

        public override string ToString() => $"{C}->{M} k{K} s{S} {H}^2 b{N}";

        // The network's order in the tables.
        public int CompareTo(object? obj) => Layers.ToList().IndexOf(this).CompareTo(obj is GemmConvLayer other ? Layers.ToList().IndexOf(other) : -1);
    }
}
