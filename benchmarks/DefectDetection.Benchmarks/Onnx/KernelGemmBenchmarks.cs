using BenchmarkDotNet.Attributes;
using DefectDetection.Onnx.Kernels.Gemm;

namespace DefectDetection.Benchmarks.Onnx;

/// <summary>SGEMM, single thread: square 256 and 1024, and a packed-weights fully-connected shape.</summary>
[Config(typeof(KernelBenchmarkConfig))]
public class KernelGemmBenchmarks
{
    private float[] _a256 = [], _b256 = [], _c256 = [];
    private float[] _a1024 = [], _b1024 = [], _c1024 = [];
    private float[] _fcIn = [], _fcOut = [], _fcBias = [];
    private PackedMatrix? _fcWeights;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _a256 = Random(rng, 256 * 256);
        _b256 = Random(rng, 256 * 256);
        _c256 = new float[256 * 256];
        _a1024 = Random(rng, 1024 * 1024);
        _b1024 = Random(rng, 1024 * 1024);
        _c1024 = new float[1024 * 1024];
        _fcIn = Random(rng, 8 * 1280);
        _fcOut = new float[8 * 1000];
        _fcBias = Random(rng, 1000);
        _fcWeights = Sgemm.PackB(Random(rng, 1000 * 1280), 1280, 1000, transB: true);
    }

    [Benchmark]
    [Operations(2.0 * 256 * 256 * 256)]
    public void Sgemm256() => Sgemm.Multiply(false, false, 256, 256, 256, 1f, _a256, 256, _b256, 256, 0f, _c256, 256);

    [Benchmark]
    [Operations(2.0 * 1024 * 1024 * 1024)]
    public void Sgemm1024() => Sgemm.Multiply(false, false, 1024, 1024, 1024, 1f, _a1024, 1024, _b1024, 1024, 0f, _c1024, 1024);

    [Benchmark]
    [Operations(2.0 * 8 * 1000 * 1280)]
    public void FullyConnectedPacked8x1280x1000()
        => Sgemm.Multiply(8, _fcIn, 1280, _fcWeights!, _fcOut, 1000, _fcBias, ActivationParams.None, null);

    internal static float[] Random(Random rng, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = (float)rng.NextDouble() - 0.5f;
        }

        return a;
    }
}
