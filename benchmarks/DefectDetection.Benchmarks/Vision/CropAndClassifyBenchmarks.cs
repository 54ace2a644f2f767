using BenchmarkDotNet.Attributes;
using DefectDetection.Pipeline;

namespace DefectDetection.Benchmarks.Vision;

/// <summary>
/// Crop-and-classify on a 4608x3456 board with about 500 pins (2 threads): the whole pipeline (fixed-layout
/// detection, cutting with a margin, resizing to the classifier input, classification) and classification alone on
/// pre-cut crops, for the weight-free gradient-histogram classifier and the MobileNetV2 int8 backbone, at 64x64 and
/// 224x224 crops. ROIs/s = ROI count / mean time (the count is printed in the setup log).
/// </summary>
[MemoryDiagnoser]
public class CropAndClassifyBenchmarks
{
    private const int Threads = 2;
    private CropAndClassifyWorkload _workload = null!;

    [Params(CropClassifierKind.Hog, CropClassifierKind.MobileNetV2)]
    public CropClassifierKind Classifier { get; set; }

    [Params(64, 224)]
    public int CropSide { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _workload = new CropAndClassifyWorkload(Classifier, CropSide, Threads);
        Console.WriteLine($"// {_workload.Regions.Count} ROIs on a {CropAndClassifyWorkload.BoardWidth}x{CropAndClassifyWorkload.BoardHeight} board");
    }

    [GlobalCleanup]
    public void Cleanup() => _workload.Dispose();

    [Benchmark(Description = "Whole board: detect, crop, classify")]
    public int WholeBoard() => _workload.Pipeline.Inspect(_workload.Board).Regions.Count;

    [Benchmark(Description = "Classification only (pre-cut crops)")]
    public int ClassifyOnly() => CropAndClassifySplit.ClassifyParallel(_workload, Threads, 64);
}
