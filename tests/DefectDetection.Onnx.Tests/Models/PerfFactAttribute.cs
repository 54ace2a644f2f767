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
