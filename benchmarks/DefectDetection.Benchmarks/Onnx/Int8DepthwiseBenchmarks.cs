using BenchmarkDotNet.Attributes;
using DefectDetection.Onnx.Kernels.Conv;
using DefectDetection.Onnx.Kernels.Gemm;

namespace DefectDetection.Benchmarks.Onnx;

/// <summary>
/// The int8 depthwise 3x3 layers of MobileNetV2 (pad 1, batch 1, one thread, random weights and input): the default
/// kernels against the row kernel without its float row ring (stride 1 wider than 16 is where the ring applies).
/// </summary>
[Config(typeof(KernelVariantBenchmarkConfig))]
public class Int8DepthwiseBenchmarks
{
    private Conv2dInt8? _default, _withoutRing;
    private byte[] _x = [], _y = [];

    public static IEnumerable<DepthwiseLayer> Layers { get; } =
    [
        new(32, 112, 1), new(96, 112, 2), new(144, 56, 1), new(144, 56, 2), new(192, 28, 1),
        new(192, 28, 2), new(384, 14, 1), new(576, 14, 1), new(576, 14, 2), new(960, 7, 1),
    ];

    [ParamsSource(nameof(Layers))]
    public DepthwiseLayer Layer { get; set; } = new(32, 112, 1);

    [GlobalSetup]
    public void Setup()
    {
        (int c, int h, int stride) = (Layer.Channels, Layer.Size, Layer.Stride);
        var shape = Layer.Shape;
        var rng = new Random(1);
        byte[] wb = new byte[c * 9];
        rng.NextBytes(wb);
        _x = new byte[c * h * h];
        rng.NextBytes(_x);
        _y = new byte[c * shape.OutputHeight(h) * shape.OutputWidth(h)];
        sbyte[] w = Array.ConvertAll(wb, v => (sbyte)v);
        _default = new Conv2dInt8(shape, w, [0], new int[c], 3, new Requantization([0.001f], 5, false));
        _withoutRing = new Conv2dInt8(shape, w, [0], new int[c], 3, new Requantization([0.001f], 5, false), Int8KernelPaths.All & ~Int8KernelPaths.RowRing);
    }

    [Benchmark(Baseline = true)]
    public void Default() => _default!.Run(_x, 1, Layer.Size, Layer.Size, _y, [], null);

    [Benchmark]
    public void WithoutRowRing() => _withoutRing!.Run(_x, 1, Layer.Size, Layer.Size, _y, [], null);

    /// <summary>A c x size x size depthwise 3x3 layer, pad 1.</summary>
    public sealed record DepthwiseLayer(int Channels, int Size, int Stride) : IOperationCount, IComparable
    {
        internal Conv2dShape Shape => new(Channels, Channels, Channels, 3, 3, Stride, Stride, 1, 1, 1, 1, 1, 1);

        public double Operations => 2.0 * 9 * Channels * Shape.OutputHeight(Size) * Shape.OutputWidth(Size);

        public override string ToString() => $"dw s{Stride} {Channels}x{Size}x{Size}";

        // The network's order in the tables.
        public int CompareTo(object? obj) => Layers.ToList().IndexOf(this).CompareTo(obj is DepthwiseLayer other ? Layers.ToList().IndexOf(other) : -1);
    }
}
