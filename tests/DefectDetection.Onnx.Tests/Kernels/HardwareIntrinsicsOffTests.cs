using System.Diagnostics;
using System.Runtime.Intrinsics;
using DefectDetection.Onnx.Kernels.Gemm;

namespace DefectDetection.Onnx.Tests.Kernels;

/// <summary>
/// Runs the kernel tests again in a child process started with DOTNET_EnableHWIntrinsic=0, so that the scalar
/// fallbacks run for real (not only the width switch). The child is this test assembly run by <c>dotnet exec</c>
/// with <see cref="StartupHook"/> as a startup hook: it runs <see cref="KernelSelfCheck.Run"/> and exits.
/// </summary>
public sealed class HardwareIntrinsicsOffTests
{
    [Fact]
    public async Task KernelsPassWithHardwareIntrinsicsDisabled()
    {
        string dll = typeof(HardwareIntrinsicsOffTests).Assembly.Location;
        string dir = Path.GetDirectoryName(dll)!;
        string name = Path.GetFileNameWithoutExtension(dll);
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add("--runtimeconfig");
        psi.ArgumentList.Add(Path.Combine(dir, name + ".runtimeconfig.json"));
        psi.ArgumentList.Add("--depsfile");
        psi.ArgumentList.Add(Path.Combine(dir, name + ".deps.json"));
        psi.ArgumentList.Add(dll);
        psi.Environment["DOTNET_EnableHWIntrinsic"] = "0";
        psi.Environment["DOTNET_STARTUP_HOOKS"] = dll;
        psi.Environment[KernelSelfCheck.EnvironmentVariable] = "1";
        using var process = Process.Start(psi)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("The self-check child process timed out.");
        }

        string output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"self-check failed (exit {process.ExitCode}):\n{output}");
        Assert.Contains("hardware acceleration: none", output);
        Assert.Contains("kernel self-check passed", output);
    }
}

/// <summary>The checks the child process runs (the same test methods, at the widths the child's hardware allows).</summary>
internal static class KernelSelfCheck
{
    public const string EnvironmentVariable = "DEFECT_KERNEL_SELFCHECK";

    public static int Run()
    {
        bool accelerated = Vector128.IsHardwareAccelerated || Vector256.IsHardwareAccelerated || Vector512.IsHardwareAccelerated;
        Console.WriteLine($"hardware acceleration: {(accelerated ? "present" : "none")}, kernel width {KernelOptions.MaxVectorBits}");
        var checks = new (string Name, Action Check)[]
        {
            ("sgemm", () => new SgemmTests().MultiplyMatchesReferenceForOddShapes(0)),
            ("sgemm packed", () => new SgemmTests().PackedBWithBiasAndActivationMatchesReference(0)),
            ("sgemm lengths", () => new VectorLengthTests().SgemmAllColumnCounts(0)),
            ("conv f32", () => new Conv2dFloatTests().ConvolutionMatchesReference(512)),
            ("depthwise lengths", () => new VectorLengthTests().DepthwiseAllRowWidths(512)),
            ("qgemm", () => new QGemmTests().U8S8AndU8U8MatchReference(512)),
            ("qgemm requant", () => new QGemmTests().PackedWithRequantizationMatchesReference(512)),
            ("requant lengths", () => new VectorLengthTests().RequantizeAllLengths(512)),
            ("conv int8", () => new Conv2dInt8Tests().ConvolutionMatchesReference(512)),
            ("int8 pointwise", () => new Conv2dInt8PointwiseTests().MatchesReference(512, true)),
            ("int8 depthwise lengths", () => new VectorLengthTests().Int8DepthwiseAllRowWidths(512)),
            ("int8 narrow depthwise", () => new Conv2dInt8Tests().NarrowDepthwiseMatchesReference(512)),
            ("int8 stride-2 depthwise", () => new Conv2dInt8Tests().Stride2DepthwiseMatchesReference(512)),
            ("int8 depthwise planes", () => new Int8DepthwiseTests().AllPlaneSizesMatchReference(512)),
            ("dequantize lengths", () => new QuantizationTests().DequantizeMatchesScalarDefinitionForAllLengths()),
            ("activations", () => new VectorLengthTests().ActivationsAllLengths()),
            ("thread pool", () => new IntraOpThreadPoolTests().EveryIndexRunsExactlyOnce(2)),
        };
        int failures = 0;
        foreach (var (name, check) in checks)
        {
            try
            {
                check();
                Console.WriteLine($"ok   {name}");
            }
            catch (Exception ex)
            {
                failures++;
                Console.WriteLine($"FAIL {name}: {ex}");
            }
        }

        Console.WriteLine(failures == 0 ? "kernel self-check passed" : $"kernel self-check: {failures} failed");
        return failures == 0 ? 0 : 1;
    }
}
