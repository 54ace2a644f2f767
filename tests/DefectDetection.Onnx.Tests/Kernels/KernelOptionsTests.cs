using DefectDetection.Onnx.Kernels.Gemm;

namespace DefectDetection.Onnx.Tests.Kernels;

/// <summary>The vector width a kernel is created with: asked for per kernel, rounded down, never above the hardware's.</summary>
public sealed class KernelOptionsTests
{
    [Fact]
    public void ResolveRoundsDownAndClampsToTheHardware()
    {
        int max = KernelOptions.DetectVectorBits();
        Assert.Equal(max, KernelOptions.MaxVectorBits);
        Assert.Equal(max, KernelOptions.Resolve(null));
        Assert.Equal(Math.Min(max, 512), KernelOptions.Resolve(1024));
        Assert.Equal(Math.Min(max, 256), KernelOptions.Resolve(300));
        Assert.Equal(Math.Min(max, 128), KernelOptions.Resolve(255));
        Assert.Equal(0, KernelOptions.Resolve(127));
        Assert.Equal(0, KernelOptions.Resolve(0));
    }
}
