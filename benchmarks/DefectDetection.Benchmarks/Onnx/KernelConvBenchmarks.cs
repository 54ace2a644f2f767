using BenchmarkDotNet.Attributes;
using DefectDetection.Onnx.Kernels.Conv;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Benchmarks.Onnx;

/// <summary>Float and int8 convolutions on single-image shapes from ResNet/MobileNetV2, one thread.</summary>
[Config(typeof(KernelBenchmarkConfig))]
public class KernelConvBenchmarks
{
    private static readonly Conv2dShape Conv3x3 = new(64, 64, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
    private static readonly Conv2dShape Pointwise = new(96, 24, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0);
    private static readonly Conv2dShape Depthwise = new(144, 144, 144, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
    private static readonly Conv2dShape DepthwiseS2 = new(144, 144, 144, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1);

    private Conv2dFloat? _f3x3, _fPointwise, _fDepthwise, _fDepthwiseS2;
    private Conv2dInt8? _q3x3, _qPointwise, _qDepthwise;
    private float[] _x64 = [], _x96 = [], _x144 = [], _yf = [], _scratchF = [];
    private byte[] _q64 = [], _q96 = [], _q144 = [], _yq = [], _scratchQ = [];
    private IntraOpThreadPool? _pool2;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(2);
        _f3x3 = CreateFloat(rng, Conv3x3);
        _fPointwise = CreateFloat(rng, Pointwise);
        _fDepthwise = CreateFloat(rng, Depthwise);
        _fDepthwiseS2 = CreateFloat(rng, DepthwiseS2);
        _q3x3 = CreateInt8(rng, Conv3x3);
        _qPointwise = CreateInt8(rng, Pointwise);
        _qDepthwise = CreateInt8(rng, Depthwise);
        _x64 = KernelGemmBenchmarks.Random(rng, 64 * 56 * 56);
        _x96 = KernelGemmBenchmarks.Random(rng, 96 * 56 * 56);
        _x144 = KernelGemmBenchmarks.Random(rng, 144 * 56 * 56);
        _yf = new float[144 * 56 * 56];
        _scratchF = new float[_f3x3.ScratchFloats(1, 56, 56)];
        _q64 = Bytes(rng, 64 * 56 * 56);
        _q96 = Bytes(rng, 96 * 56 * 56);
        _q144 = Bytes(rng, 144 * 56 * 56);
        _yq = new byte[144 * 56 * 56];
        _scratchQ = new byte[_q3x3.ScratchBytes(1, 56, 56)];
        _pool2 = new IntraOpThreadPool(2);
    }

    [GlobalCleanup]
    public void Cleanup() => _pool2?.Dispose();

    [Benchmark]
    [Operations(2.0 * 64 * 56 * 56 * 64 * 9)]
    public void Float3x3_64to64_56() => _f3x3!.Run(_x64, 1, 56, 56, _yf, _scratchF, null);

    [Benchmark]
    [Operations(2.0 * 64 * 56 * 56 * 64 * 9)]
    public void Float3x3_64to64_56_TwoThreads() => _f3x3!.Run(_x64, 1, 56, 56, _yf, _scratchF, _pool2);

    [Benchmark]
    [Operations(2.0 * 24 * 56 * 56 * 96)]
    public void Float1x1_96to24_56() => _fPointwise!.Run(_x96, 1, 56, 56, _yf, [], null);

    [Benchmark]
    [Operations(2.0 * 144 * 56 * 56 * 9)]
    public void FloatDepthwise3x3_144_56() => _fDepthwise!.Run(_x144, 1, 56, 56, _yf, [], null);

    [Benchmark]
    [Operations(2.0 * 144 * 28 * 28 * 9)]
    public void FloatDepthwise3x3s2_144_56() => _fDepthwiseS2!.Run(_x144, 1, 56, 56, _yf, [], null);

    [Benchmark]
    [Operations(2.0 * 64 * 56 * 56 * 64 * 9)]
    public void Int8Conv3x3_64to64_56() => _q3x3!.Run(_q64, 1, 56, 56, _yq, _scratchQ, null);

    [Benchmark]
    [Operations(2.0 * 24 * 56 * 56 * 96)]
    public void Int8Conv1x1_96to24_56() => _qPointwise!.Run(_q96, 1, 56, 56, _yq, [], null);

    [Benchmark]
    [Operations(2.0 * 144 * 56 * 56 * 9)]
    public void Int8Depthwise3x3_144_56() => _qDepthwise!.Run(_q144, 1, 56, 56, _yq, [], null);

    private static Conv2dFloat CreateFloat(Random rng, Conv2dShape s)
        => new(s, KernelGemmBenchmarks.Random(rng, s.OutChannels * s.WeightsPerOutputChannel), KernelGemmBenchmarks.Random(rng, s.OutChannels), ActivationParams.Relu);

    private static Conv2dInt8 CreateInt8(Random rng, Conv2dShape s)
    {
        sbyte[] w = Array.ConvertAll(Bytes(rng, s.OutChannels * s.WeightsPerOutputChannel), b => (sbyte)b);
        float[] scales = Enumerable.Range(0, s.OutChannels).Select(_ => 0.0005f).ToArray();
        return new Conv2dInt8(s, w, [0], new int[s.OutChannels], 5, new Requantization(scales, 0, false, 0, 200));
    }

    private static byte[] Bytes(Random rng, int n)
    {
        var b = new byte[n];
        rng.NextBytes(b);
        return b;
    }
}
