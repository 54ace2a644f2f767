using BenchmarkDotNet.Running;

namespace DefectDetection.Benchmarks;

/// <summary>Runs the benchmarks chosen on the command line (BenchmarkDotNet's --filter etc.).</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
