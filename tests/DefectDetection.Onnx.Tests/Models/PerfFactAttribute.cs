using DefectDetection.Testing;

namespace DefectDetection.Onnx.Tests.Models;

/// <summary>A timing report, run only when DEFECT_ONNX_PERF=1 (and ../shared exists).</summary>
public sealed class PerfFactAttribute : FactAttribute
{
    public PerfFactAttribute()
    {
        Skip = Environment.GetEnvironmentVariable("DEFECT_ONNX_PERF") != "1" ? "timing report: set DEFECT_ONNX_PERF=1" : SharedData.Root is null ? "needs ../shared" : null;
    }
}

/// <summary>
/// The timing reports run one at a time and never beside other tests: several flip the kernels' internal switches
/// to alternate variants, which would distort the others' figures.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PerfCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Timing reports";
}
