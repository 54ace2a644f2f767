namespace DefectDetection.Onnx.Kernels.Gemm;

/// <summary>Thread-local scratch buffers for the kernels: pinned, grown on demand, never freed while the thread lives.</summary>
internal static unsafe class AlignedScratch
{
    /// <summary>
    /// A pinned buffer of at least <paramref name="length"/> elements held in <paramref name="buffer"/> (a
    /// [ThreadStatic] field of the caller), its start aligned to 64 bytes: a 512-bit load then never straddles two
    /// cache lines, which costs Zen 4 about half its load speed.
    /// </summary>
    internal static T* Get<T>(ref T[]? buffer, long length)
        where T : unmanaged
    {
        long padded = length + (64 / sizeof(T));
        if (buffer is null || buffer.Length < padded)
        {
            buffer = GC.AllocateUninitializedArray<T>((int)Math.Max(padded, 4096), pinned: true);
        }

        fixed (T* p = buffer)
        {
            return (T*)(((nint)p + 63) & ~(nint)63); // pinned-heap array: the address stays valid
        }
    }
}
