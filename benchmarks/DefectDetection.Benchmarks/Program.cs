using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using DefectDetection.Benchmarks.Imaging;

namespace DefectDetection.Benchmarks;

/// <summary>
/// Runs the benchmarks chosen on the command line (BenchmarkDotNet's --filter etc.), or one of the reports: the
/// <c>jpeg-compare</c> timing mode used by benchmarks/scripts/jpeg-compare.sh, the <c>crop-split</c> stage split
/// of the crop-and-classify pipeline (<c>crop-engine</c>, <c>crop-profile</c>, <c>crop-huge</c> beside it), the
/// <c>onnx-profile</c> per-kernel profile of a shared model and the <c>qgemm-balance</c> column blocks of the int8 GEMM.
/// A job named on the command line (<c>--job dry</c> for a quick check that benchmarks run) replaces the jobs of the
/// benchmark configs.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "jpeg-compare")
        {
            return JpegCompare.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "crop-split")
        {
            return Vision.CropAndClassifySplit.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "crop-engine")
        {
            return Vision.CropEngineSweep.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "crop-profile")
        {
            return Vision.CropEngineProfile.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "crop-huge")
        {
            return Vision.LargeImageDemo.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "onnx-profile")
        {
            return Onnx.OnnxProfile.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "qgemm-balance")
        {
            return Onnx.QGemmBalanceReport.Run(args[1..]);
        }

        // Building the generated benchmark project can take minutes on a busy 2-core machine (BenchmarkDotNet's default: 2).
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, ManualConfig.Create(DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(15)));
        return 0;
    }
}
