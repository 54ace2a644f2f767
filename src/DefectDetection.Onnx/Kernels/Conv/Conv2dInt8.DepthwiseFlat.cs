using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DefectDetection.Onnx.Kernels.Gemm;

namespace DefectDetection.Onnx.Kernels.Conv;

// Depthwise int8 3x3, stride 1, pad 1 on narrow planes (width <= 16: the 7x7 and 14x14 layers of mobile
// networks), where row vectors would be mostly empty. The plane is treated as one flat run of H * W floats between
// zero guards (above/below rows read zeros), so every 16-lane vector is full: output j sums the taps at
// j + dy * W + dx; the left (dx = -1) and right (dx = +1) column sums are masked out on the lanes of the first and
// last column, where they would read the neighbouring row. Sums of products are exact integers below 2^24.
// Planes reach it only when the row kernel (DepthwiseRows) cannot take them: accumulator starts too large for exact
// float sums there, or AVX-512F without BW.
internal sealed unsafe partial class Conv2dInt8
{
    private const int FlatGuard = 48; // zero floats before the plane (>= W + 1), also rounds the plane start to 64 bytes

    [ThreadStatic]
    private static float[]? t_flatPlane;
    [ThreadStatic]
    private static float[]? t_flatMasks;

    /// <summary>True when the flat-plane kernel handles the shape (AVX-512, 3x3, stride 1, pad 1, width 2..16).</summary>
    internal static bool UsesFlatDepthwise(in Conv2dShape s, int inW, int width)
        => width >= 512 && Avx512F.IsSupported && s.KernelH == 3 && s.KernelW == 3 && s.StrideH == 1 && s.StrideW == 1
           && s.DilationH == 1 && s.DilationW == 1 && s.PadTop == 1 && s.PadBottom == 1 && s.PadLeft == 1 && s.PadRight == 1
           && inW is >= 2 and <= 16;

    /// <summary>Per-call state of the flat kernel on one thread: the guarded plane buffer and the column masks.</summary>
    private readonly struct FlatPlane
    {
        public readonly float* Plane; // first element of the plane; FlatGuard zeros before, W + 16 zeros after
        public readonly uint* Masks;  // per 16-lane chunk: left mask, right mask (all ones where the tap is inside)
        public readonly int Width, Length;

        public FlatPlane(int h, int w)
        {
            Width = w;
            Length = h * w;
            int chunks = (Length + 15) / 16;
            float* buffer = AlignedScratch.Get(ref t_flatPlane, FlatGuard + Length + w + 32);
            new Span<float>(buffer, FlatGuard + Length + w + 32).Clear();
            Plane = buffer + FlatGuard;
            Masks = (uint*)AlignedScratch.Get(ref t_flatMasks, (long)chunks * 32);
            for (int j = 0; j < chunks * 16; j++)
            {
                int x = j % w;
                Masks[((j / 16) * 32) + (j % 16)] = x == 0 ? 0u : uint.MaxValue;
                Masks[((j / 16) * 32) + 16 + (j % 16)] = x == w - 1 ? 0u : uint.MaxValue;
            }
        }
    }

    /// <summary>One plane: converts the u8 input (x - zero point), filters it and requantizes into <paramref name="dst"/>.</summary>
    private static void FlatDepthwisePlane(in FlatPlane f, byte* src, byte zero, float* w, int bias, float scale,
                                           int zeroPoint, int min, int max, byte* dst)
    {
        int n = f.Length, width = f.Width;
        float* p = f.Plane;

        // u8 -> float (x - zero point); the tail by one overlapping vector (or scalars when the plane is short).
        var z = Vector512.Create((int)zero);
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            Vector512.Store(Vector512.ConvertToSingle(Avx512F.ConvertToVector512Int32(Vector128.Load(src + i)) - z), p + i);
        }

        if (i < n)
        {
            if (n >= 16)
            {
                Vector512.Store(Vector512.ConvertToSingle(Avx512F.ConvertToVector512Int32(Vector128.Load(src + n - 16)) - z), p + n - 16);
            }
            else
            {
                for (; i < n; i++)
                {
                    p[i] = src[i] - zero;
                }
            }
        }

        Vector512<float> k0 = Vector512.Create(w[0]), k1 = Vector512.Create(w[1]), k2 = Vector512.Create(w[2]);
        Vector512<float> k3 = Vector512.Create(w[3]), k4 = Vector512.Create(w[4]), k5 = Vector512.Create(w[5]);
        Vector512<float> k6 = Vector512.Create(w[6]), k7 = Vector512.Create(w[7]), k8 = Vector512.Create(w[8]);
        Vector512<int> vBias = Vector512.Create(bias), vZero = Vector512.Create(zeroPoint);
        Vector512<float> vScale = Vector512.Create(scale), vLo = Vector512.Create((float)(min - zeroPoint)), vHi = Vector512.Create((float)(max - zeroPoint));
        uint* masks = f.Masks;
        for (int j = 0; j < n; j += 16, masks += 32)
        {
            float* c = p + j;
            Vector512<float> left = Vector512.FusedMultiplyAdd(k6, Vector512.Load(c + width - 1),
                Vector512.FusedMultiplyAdd(k3, Vector512.Load(c - 1), k0 * Vector512.Load(c - width - 1)));
            Vector512<float> mid = Vector512.FusedMultiplyAdd(k7, Vector512.Load(c + width),
                Vector512.FusedMultiplyAdd(k4, Vector512.Load(c), k1 * Vector512.Load(c - width)));
            Vector512<float> right = Vector512.FusedMultiplyAdd(k8, Vector512.Load(c + width + 1),
                Vector512.FusedMultiplyAdd(k5, Vector512.Load(c + 1), k2 * Vector512.Load(c - width + 1)));
            Vector512<float> acc = mid + (left & Vector512.Load(masks).AsSingle()) + (right & Vector512.Load(masks + 16).AsSingle());

            // As QGemm.RequantizeFloatRow: the exact integer sum plus the bias, scaled, clamped, rounded half to even.
            Vector512<int> a = Vector512.ConvertToInt32(acc) + vBias;
            Vector512<float> v = Vector512.Min(Vector512.Max(Vector512.ConvertToSingle(a) * vScale, vLo), vHi);
            Vector128<byte> q = Avx512F.ConvertToVector128Byte(Vector512.ConvertToInt32(Vector512.Round(v)) + vZero);
            if (j + 16 <= n)
            {
                Vector128.Store(q, dst + j);
            }
            else
            {
                StoreTail(q, dst + j, n - j);
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StoreTail(Vector128<byte> q, byte* dst, int count)
    {
        byte* tmp = stackalloc byte[16];
        Vector128.Store(q, tmp);
        for (int k = 0; k < count; k++)
        {
            dst[k] = tmp[k];
        }
    }
}
