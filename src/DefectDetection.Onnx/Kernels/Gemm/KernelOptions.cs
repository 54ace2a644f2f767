using System.Runtime.Intrinsics;

namespace DefectDetection.Onnx.Kernels.Gemm;

/// <summary>
/// The widest SIMD vector the hand-written kernels may use (512, 256, 128 or 0 for scalar). Defaults to the widest
/// the hardware accelerates. Tests lower it to exercise every path on one machine; kernels and packed weights read
/// it when they are created, so change it only before creating them.
/// </summary>
internal static class KernelOptions
{
    private static int s_maxVectorBits = DetectVectorBits();

    /// <summary>The vector width in bits the kernels use (clamped to what the hardware accelerates).</summary>
    public static int MaxVectorBits
    {
        get => s_maxVectorBits;
        set => s_maxVectorBits = Math.Min(DetectVectorBits(), value >= 512 ? 512 : value >= 256 ? 256 : value >= 128 ? 128 : 0);
    }

    /// <summary>The widest hardware-accelerated vector width (512, 256, 128 or 0).</summary>
    public static int DetectVectorBits()
        => Vector512.IsHardwareAccelerated ? 512
         : Vector256.IsHardwareAccelerated ? 256
         : Vector128.IsHardwareAccelerated ? 128
         : 0;
}
