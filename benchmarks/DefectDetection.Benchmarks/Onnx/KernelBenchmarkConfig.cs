using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace DefectDetection.Benchmarks.Onnx;

/// <summary>The arithmetic work of one benchmark invocation (multiply-adds count as 2 operations).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OperationsAttribute(double count) : Attribute
{
    public double Count { get; } = count;
}

/// <summary>
/// Kernel benchmarks: a job with SIMD and one with DOTNET_EnableHWIntrinsic=0 (the scalar fallbacks), memory
/// diagnoser, and a GOP/s column computed from <see cref="OperationsAttribute"/> and the mean time.
/// </summary>
public sealed class KernelBenchmarkConfig : ManualConfig
{
    public KernelBenchmarkConfig()
    {
        AddJob(Job.ShortRun.WithId("SIMD"));
        AddJob(Job.ShortRun.WithEnvironmentVariables(new EnvironmentVariable("DOTNET_EnableHWIntrinsic", "0")).WithId("NoHWIntrinsic"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(new GopsColumn());
    }

    private sealed class GopsColumn : IColumn
    {
        public string Id => nameof(GopsColumn);
        public string ColumnName => "GOP/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Billions of arithmetic operations per second (a multiply-add counts as 2)";

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            double? ops = benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<OperationsAttribute>()?.Count;
            double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
            return ops is null || meanNs is null or <= 0 ? "-" : (ops.Value / meanNs.Value).ToString("F2");
        }
    }
}
