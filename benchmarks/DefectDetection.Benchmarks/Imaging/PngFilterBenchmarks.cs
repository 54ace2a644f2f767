using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using DefectDetection.Imaging.Formats.Png;

namespace DefectDetection.Benchmarks.Imaging;

/// <summary>
/// Undoing the PNG filters on one 1600-pixel row of 3- or 4-byte pixels, with and without hardware intrinsics
/// (the second job sets DOTNET_EnableHWIntrinsic=0, so the scalar fallbacks run).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class PngFilterBenchmarks
{
    private byte[] _row = [];
    private byte[] _work = [];
    private byte[] _prev = [];

    [Params(3, 4)]
    public int Bpp { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Random rng = new(1);
        _row = new byte[1600 * Bpp];
        _work = new byte[_row.Length];
        _prev = new byte[_row.Length];
        rng.NextBytes(_row);
        rng.NextBytes(_prev);
    }

    [Benchmark]
    public byte Sub() => Run(PngFilterType.Sub);

    [Benchmark]
    public byte Up() => Run(PngFilterType.Up);

    [Benchmark]
    public byte Average() => Run(PngFilterType.Average);

    [Benchmark]
    public byte Paeth() => Run(PngFilterType.Paeth);

    private byte Run(PngFilterType type)
    {
        _row.CopyTo(_work, 0);
        PngFilters.Unfilter(type, _work, _prev, Bpp);
        return _work[^1];
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.ShortRun.WithId("SIMD"));
            AddJob(Job.ShortRun.WithEnvironmentVariables(new EnvironmentVariable("DOTNET_EnableHWIntrinsic", "0")).WithId("Scalar"));
        }
    }
}
