using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DefectDetection.Onnx.Kernels.Gemm;

namespace DefectDetection.Onnx.Kernels.Conv;

// Depthwise int8 3x3, stride 2, pad 1 (the downsampling layers of mobile networks), outputs at least 16 wide.
// The zero-padded plane P is stored as two phase planes while the bytes are converted to float: E[r][i] = P[r][2i]
// and O[r][i] = P[r][2i + 1]. Output (oy, ox) then reads E[2oy + ky][ox], O[2oy + ky][ox] and E[2oy + ky][ox + 1]:
// nine plain vector loads, no permutes. Sums of products are exact integers below 2^24.
// Planes reach it only when the row kernel (DepthwiseRows) cannot take them: accumulator starts too large for exact
// float sums there, or AVX-512F without BW.
internal sealed unsafe partial class Conv2dInt8
{
    [ThreadStatic]
    private static float[]? t_phasePlanes;

    /// <summary>True when the phase-plane kernel handles the shape (AVX-512, 3x3, stride 2, pad 1, output width >= 16).</summary>
    internal static bool UsesPhaseDepthwise(in Conv2dShape s, int outW, int width)
        => width >= 512 && Avx512F.IsSupported && s.KernelH == 3 && s.KernelW == 3 && s.StrideH == 2 && s.StrideW == 2
           && s.DilationH == 1 && s.DilationW == 1 && s.PadTop == 1 && s.PadLeft == 1 && s.PadBottom <= 1 && s.PadRight <= 1
           && outW >= 16;

    /// <summary>Per-call state on one thread: the two zeroed phase planes.</summary>
    private readonly struct PhasePlanes
    {
        public readonly float* Even, Odd;
        public readonly int Stride; // floats per phase row

        public PhasePlanes(int inH, int outW)
        {
            // Phase index outW (the right border) is the last one read.
            Stride = (outW + 1 + 15) & ~15;
            long plane = (long)(inH + 2) * Stride;
            float* buffer = AlignedScratch.Get(ref t_phasePlanes, 2 * plane);
            new Span<float>(buffer, (int)(2 * plane)).Clear();
            Even = buffer;
            Odd = buffer + plane;
        }
    }

    /// <summary>One plane: converts the u8 input into the phase planes, filters and requantizes into <paramref name="dst"/>.</summary>
    private static void PhaseDepthwisePlane(in PhasePlanes f, byte* src, int inH, int inW, int outH, int outW, byte zero, float* w,
                                            int bias, float scale, int zeroPoint, int min, int max, byte* dst)
    {
        int ld = f.Stride;
        var z = Vector512.Create((int)zero);
        var lowByte = Vector512.Create(0xFF);
        for (int y = 0; y < inH; y++)
        {
            // Padded row y + 1; input column x is padded column x + 1: even x -> O[x / 2], odd x -> E[(x + 1) / 2].
            // Only image columns are written, so the borders stay zero for every plane.
            float* e = f.Even + ((long)(y + 1) * ld) + 1, o = f.Odd + ((long)(y + 1) * ld);
            byte* row = src + ((long)y * inW);
            int x = 0;
            if (inW >= 32)
            {
                for (; x + 32 <= inW; x += 32)
                {
                    Vector512<int> pairs = Avx512F.ConvertToVector512Int32(Vector256.Load((ushort*)(row + x)));
                    Vector512.Store(Vector512.ConvertToSingle((pairs & lowByte) - z), o + (x / 2));
                    Vector512.Store(Vector512.ConvertToSingle(Vector512.ShiftRightLogical(pairs, 8) - z), e + (x / 2));
                }

                if (x < inW)
                {
                    // One overlapping chunk from an even column (same parity, same values); an odd width leaves its last column.
                    int xs = (inW - 32) & ~1;
                    Vector512<int> pairs = Avx512F.ConvertToVector512Int32(Vector256.Load((ushort*)(row + xs)));
                    Vector512.Store(Vector512.ConvertToSingle((pairs & lowByte) - z), o + (xs / 2));
                    Vector512.Store(Vector512.ConvertToSingle(Vector512.ShiftRightLogical(pairs, 8) - z), e + (xs / 2));
                    x = xs + 32;
                }
            }

            for (; x < inW; x++)
            {
                (((x & 1) == 0) ? o : e)[x / 2] = row[x] - zero;
            }
        }

        Vector512<float> k0 = Vector512.Create(w[0]), k1 = Vector512.Create(w[1]), k2 = Vector512.Create(w[2]);
        Vector512<float> k3 = Vector512.Create(w[3]), k4 = Vector512.Create(w[4]), k5 = Vector512.Create(w[5]);
        Vector512<float> k6 = Vector512.Create(w[6]), k7 = Vector512.Create(w[7]), k8 = Vector512.Create(w[8]);
        Vector512<int> vBias = Vector512.Create(bias), vZero = Vector512.Create(zeroPoint);
        Vector512<float> vScale = Vector512.Create(scale), vLo = Vector512.Create((float)(min - zeroPoint)), vHi = Vector512.Create((float)(max - zeroPoint));
        for (int oy = 0; oy < outH; oy++)
        {
            float* e0 = f.Even + ((long)2 * oy * ld), e1 = e0 + ld, e2 = e1 + ld;
            float* o0 = f.Odd + ((long)2 * oy * ld), o1 = o0 + ld, o2 = o1 + ld;
            byte* d = dst + ((long)oy * outW);
            for (int ox = 0; ; ox += 16)
            {
                ox = Math.Min(ox, outW - 16); // the last vector overlaps: it recomputes identical values
                Vector512<float> acc = Vector512.FusedMultiplyAdd(k2, Vector512.Load(e0 + ox + 1),
                    Vector512.FusedMultiplyAdd(k1, Vector512.Load(o0 + ox), k0 * Vector512.Load(e0 + ox)));
                Vector512<float> acc1 = Vector512.FusedMultiplyAdd(k5, Vector512.Load(e1 + ox + 1),
                    Vector512.FusedMultiplyAdd(k4, Vector512.Load(o1 + ox), k3 * Vector512.Load(e1 + ox)));
                Vector512<float> acc2 = Vector512.FusedMultiplyAdd(k8, Vector512.Load(e2 + ox + 1),
                    Vector512.FusedMultiplyAdd(k7, Vector512.Load(o2 + ox), k6 * Vector512.Load(e2 + ox)));

                // As QGemm.RequantizeFloatRow: the exact integer sum plus the bias, scaled, clamped, rounded half to even.
                Vector512<int> a = Vector512.ConvertToInt32(acc + acc1 + acc2) + vBias;
                Vector512<float> v = Vector512.Min(Vector512.Max(Vector512.ConvertToSingle(a) * vScale, vLo), vHi);
                Vector128.Store(Avx512F.ConvertToVector128Byte(Vector512.ConvertToInt32(Vector512.Round(v)) + vZero), d + ox);
                if (ox == outW - 16)
                {
                    break;
                }
            }
        }
    }
}
