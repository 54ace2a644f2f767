using System.Buffers;

namespace DefectDetection.Imaging.Memory;

/// <summary>
/// The one place large pixel and coefficient buffers come from. Buffers up to 64 MiB are rented from
/// <see cref="ArrayPool{T}.Shared"/>; larger ones are allocated uninitialised and left to the GC, so that a
/// single huge image does not pin memory in the pool for the life of the process.
/// </summary>
internal static class PixelBufferPool
{
    private const int PoolLimit = 64 << 20;

    public static T[] Rent<T>(int length, bool clear = false)
        where T : unmanaged
    {
        if (length < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length));
        }

        long bytes = (long)length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        T[] array = bytes <= PoolLimit ? ArrayPool<T>.Shared.Rent(length) : GC.AllocateUninitializedArray<T>(length);
        if (clear)
        {
            array.AsSpan(0, length).Clear();
        }

        return array;
    }

    public static void Return<T>(T[]? array)
        where T : unmanaged
    {
        if (array is null)
        {
            return;
        }

        if ((long)array.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>() <= PoolLimit)
        {
            ArrayPool<T>.Shared.Return(array);
        }
    }
}
