using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using BenchmarkDotNet.Attributes;
using DefectDetection.Onnx.Kernels.Gemm;

namespace DefectDetection.Benchmarks.Onnx;

/// <summary>
/// The int8 micro-kernel alone (QGemm.Kernel512Requant: one 8 x 32 tile over k pairs, requantized into bytes) on
/// L1-resident packed panels: the ceiling the int8 convolutions can reach per core. Needs AVX-512BW.
/// </summary>
[Config(typeof(KernelVariantBenchmarkConfig))]
public unsafe class QGemmMicroKernelBenchmarks
{
    private short* _a, _b;
    private byte* _c;
    private float* _scales;
    private int* _bias;

    public static IEnumerable<TileDepth> Depths { get; } = [new(8), new(12), new(16), new(48), new(128)];

    [ParamsSource(nameof(Depths))]
    public TileDepth Depth { get; set; } = new(8);

    [GlobalSetup]
    public void Setup()
    {
        if (!Avx512BW.IsSupported || !Avx512F.VL.IsSupported)
        {
            throw new PlatformNotSupportedException("QGemm.Kernel512Requant needs AVX-512BW and AVX-512VL, which this CPU lacks.");
        }

        int kp = Depth.KPairs;
        _a = (short*)NativeMemory.AlignedAlloc((nuint)(8 * kp * 2 * sizeof(short)), 64);
        _b = (short*)NativeMemory.AlignedAlloc((nuint)(32 * kp * 2 * sizeof(short)), 64);
        _c = (byte*)NativeMemory.AlignedAlloc(8 * 32, 64);
        _scales = (float*)NativeMemory.AlignedAlloc(sizeof(float), 64);
        _bias = (int*)NativeMemory.AlignedAlloc(8 * sizeof(int), 64);
        var rng = new Random(3);
        for (int i = 0; i < 8 * kp * 2; i++)
        {
            _a[i] = (short)rng.Next(-255, 256);
        }

        for (int i = 0; i < 32 * kp * 2; i++)
        {
            _b[i] = (short)rng.Next(-255, 256);
        }

        *_scales = 0.001f;
        new Span<int>(_bias, 8).Clear();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_a);
        NativeMemory.AlignedFree(_b);
        NativeMemory.AlignedFree(_c);
        NativeMemory.AlignedFree(_scales);
        NativeMemory.AlignedFree(_bias);
    }

    [Benchmark]
    public void Kernel512Requant()
    {
        var o = new QGemm.Output { Cq = _c, Ldcq = 32, Scales = _scales, BiasRow = _bias, ZeroPoint = 3, Min = 0, Max = 255 };
        QGemm.Kernel512Requant(Depth.KPairs, _a, _b, o, 0, _c);
    }

    /// <summary>The k pairs of one tile (K = 2 x KPairs).</summary>
    public sealed record TileDepth(int KPairs) : IOperationCount, IComparable
    {
        public double Operations => 2.0 * 8 * 32 * KPairs * 2;

        public int CompareTo(object? obj) => KPairs.CompareTo((obj as TileDepth)?.KPairs);

        public override string ToString() => $"kPairs {KPairs}";
    }
}
