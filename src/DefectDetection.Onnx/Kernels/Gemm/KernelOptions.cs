using System.Runtime.Intrinsics;

namespace DefectDetection.Onnx.Kernels.Gemm;

/// <summary>
/// The widest SIMD vector the hand-written kernels use (512, 256, 128 or 0 for scalar): the widest the hardware
/// accelerates, unless a narrower one is asked for when a kernel is created or packed weights are made (tests do, to
/// exercise every path on one machine). Nothing changes it for the whole process.
/// </summary>
internal static class KernelOptions
{
    /// <summary>The vector width in bits the kernels use unless told otherwise (the widest the hardware accelerates).</summary>
    public static int MaxVectorBits { get; } = DetectVectorBits();

    /// <summary>
    /// The width for a request: <see cref="MaxVectorBits"/> for null, else the request rounded down to 512, 256, 128
    /// or 0 and clamped to what the hardware accelerates.
    /// </summary>
    public static int Resolve(int? requested)
        => requested is not int bits ? MaxVectorBits
         : Math.Min(MaxVectorBits, bits >= 512 ? 512 : bits >= 256 ? 256 : bits >= 128 ? 128 : 0);

    /// <summary>The widest hardware-accelerated vector width (512, 256, 128 or 0).</summary>
    public static int DetectVectorBits()
        => Vector512.IsHardwareAccelerated ? 512
         : Vector256.IsHardwareAccelerated ? 256
         : Vector128.IsHardwareAccelerated ? 128
         : 0;
}
