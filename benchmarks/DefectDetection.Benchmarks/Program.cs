using BenchmarkDotNet.Running;
using DefectDetection.Benchmarks.Imaging;

namespace DefectDetection.Benchmarks;

/// <summary>
/// Runs the benchmarks chosen on the command line (BenchmarkDotNet's --filter etc.), or the
/// <c>jpeg-compare</c> timing mode used by benchmarks/scripts/jpeg-compare.sh, or the <c>crop-split</c> stage split
/// of the crop-and-classify pipeline.
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

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
