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

/// <summary>The arithmetic work of one benchmark invocation for a parameter value (a layer shape, a tile size).</summary>
public interface IOperationCount
{
    /// <summary>Arithmetic operations (a multiply-add counts as 2).</summary>
    double Operations { get; }
}

/// <summary>The jobs of the benchmark configs, unless the command line names one (<c>--job dry</c>, <c>--job short</c>, ...), which then replaces them.</summary>
internal static class BenchmarkJobs
{
    public static bool FromCommandLine
        => Environment.GetCommandLineArgs().Any(a => a is "--job" or "-j" || a.StartsWith("--job=", StringComparison.Ordinal));

    public static void AddUnlessCommandLine(ManualConfig config, params Job[] jobs)
    {
        if (!FromCommandLine)
        {
            config.AddJob(jobs);
        }
    }
}

/// <summary>
/// Kernel benchmarks: a job with SIMD and one with DOTNET_EnableHWIntrinsic=0 (the scalar fallbacks), memory
/// diagnoser, and a GOP/s column computed from <see cref="OperationsAttribute"/> (or an <see cref="IOperationCount"/>
/// parameter) and the mean time.
/// </summary>
public sealed class KernelBenchmarkConfig : ManualConfig
{
    public KernelBenchmarkConfig()
    {
        BenchmarkJobs.AddUnlessCommandLine(this, Job.ShortRun.WithId("SIMD"),
            Job.ShortRun.WithEnvironmentVariables(new EnvironmentVariable("DOTNET_EnableHWIntrinsic", "0")).WithId("NoHWIntrinsic"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(new GopsColumn());
    }

    internal sealed class GopsColumn : IColumn
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
            double? ops = benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<OperationsAttribute>()?.Count
                          ?? benchmarkCase.Parameters.Items.Select(p => p.Value).OfType<IOperationCount>().FirstOrDefault()?.Operations;
            double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
            return ops is null || meanNs is null or <= 0 ? "-" : (ops.Value / meanNs.Value).ToString("F2");
        }
    }
}

/// <summary>
/// Variants of one SIMD kernel (fast paths switched off per kernel, see Int8KernelPaths) against each other: the SIMD
/// job only (without hardware intrinsics every variant is the same scalar code), memory diagnoser, GOP/s column.
/// </summary>
public sealed class KernelVariantBenchmarkConfig : ManualConfig
{
    public KernelVariantBenchmarkConfig()
    {
        BenchmarkJobs.AddUnlessCommandLine(this, Job.ShortRun.WithId("SIMD"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(new KernelBenchmarkConfig.GopsColumn());
        WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(40));
    }
}
