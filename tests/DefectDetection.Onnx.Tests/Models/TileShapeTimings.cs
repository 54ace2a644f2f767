using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Xunit.Abstractions;

namespace DefectDetection.Onnx.Tests.Models;

/// <summary>Register-tile shapes of the int16 pair kernel on L1-resident panels, alternated (DEFECT_ONNX_PERF=1).</summary>
public sealed unsafe class TileShapeTimings(ITestOutputHelper output)
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Dot(Vector512<short> b, int* a, Vector512<int> acc)
        => acc + Avx512BW.MultiplyAddAdjacent(b, Vector512.Create(*a).AsInt16());

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static Vector512<int> T8x32(int kp, int* ap, short* b)
    {
        Vector512<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default;
        for (int k = 0; k < kp; k++)
        {
            Vector512<short> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 32);
            c00 = Dot(b0, ap, c00); c01 = Dot(b1, ap, c01);
            c10 = Dot(b0, ap + 1, c10); c11 = Dot(b1, ap + 1, c11);
            c20 = Dot(b0, ap + 2, c20); c21 = Dot(b1, ap + 2, c21);
            c30 = Dot(b0, ap + 3, c30); c31 = Dot(b1, ap + 3, c31);
            c40 = Dot(b0, ap + 4, c40); c41 = Dot(b1, ap + 4, c41);
            c50 = Dot(b0, ap + 5, c50); c51 = Dot(b1, ap + 5, c51);
            c60 = Dot(b0, ap + 6, c60); c61 = Dot(b1, ap + 6, c61);
            c70 = Dot(b0, ap + 7, c70); c71 = Dot(b1, ap + 7, c71);
            ap += 8;
            b += 64;
        }

        return c00 ^ c01 ^ c10 ^ c11 ^ c20 ^ c21 ^ c30 ^ c31 ^ c40 ^ c41 ^ c50 ^ c51 ^ c60 ^ c61 ^ c70 ^ c71;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static Vector512<int> T12x32(int kp, int* ap, short* b)
    {
        Vector512<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default,
            c90 = default, c91 = default, ca0 = default, ca1 = default, cb0 = default, cb1 = default;
        for (int k = 0; k < kp; k++)
        {
            Vector512<short> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 32);
            c00 = Dot(b0, ap, c00); c01 = Dot(b1, ap, c01);
            c10 = Dot(b0, ap + 1, c10); c11 = Dot(b1, ap + 1, c11);
            c20 = Dot(b0, ap + 2, c20); c21 = Dot(b1, ap + 2, c21);
            c30 = Dot(b0, ap + 3, c30); c31 = Dot(b1, ap + 3, c31);
            c40 = Dot(b0, ap + 4, c40); c41 = Dot(b1, ap + 4, c41);
            c50 = Dot(b0, ap + 5, c50); c51 = Dot(b1, ap + 5, c51);
            c60 = Dot(b0, ap + 6, c60); c61 = Dot(b1, ap + 6, c61);
            c70 = Dot(b0, ap + 7, c70); c71 = Dot(b1, ap + 7, c71);
            c80 = Dot(b0, ap + 8, c80); c81 = Dot(b1, ap + 8, c81);
            c90 = Dot(b0, ap + 9, c90); c91 = Dot(b1, ap + 9, c91);
            ca0 = Dot(b0, ap + 10, ca0); ca1 = Dot(b1, ap + 10, ca1);
            cb0 = Dot(b0, ap + 11, cb0); cb1 = Dot(b1, ap + 11, cb1);
            ap += 12;
            b += 64;
        }

        return c00 ^ c01 ^ c10 ^ c11 ^ c20 ^ c21 ^ c30 ^ c31 ^ c40 ^ c41 ^ c50 ^ c51 ^ c60 ^ c61 ^ c70 ^ c71
             ^ c80 ^ c81 ^ c90 ^ c91 ^ ca0 ^ ca1 ^ cb0 ^ cb1;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static Vector512<int> T6x64(int kp, int* ap, short* b)
    {
        Vector512<int> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default,
            c12 = default, c13 = default, c20 = default, c21 = default, c22 = default, c23 = default,
            c30 = default, c31 = default, c32 = default, c33 = default, c40 = default, c41 = default,
            c42 = default, c43 = default, c50 = default, c51 = default, c52 = default, c53 = default;
        for (int k = 0; k < kp; k++)
        {
            Vector512<short> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 32), b2 = Vector512.Load(b + 64), b3 = Vector512.Load(b + 96);
            Vector512<short> a = Vector512.Create(ap[0]).AsInt16();
            c00 += Avx512BW.MultiplyAddAdjacent(b0, a); c01 += Avx512BW.MultiplyAddAdjacent(b1, a);
            c02 += Avx512BW.MultiplyAddAdjacent(b2, a); c03 += Avx512BW.MultiplyAddAdjacent(b3, a);
            a = Vector512.Create(ap[1]).AsInt16();
            c10 += Avx512BW.MultiplyAddAdjacent(b0, a); c11 += Avx512BW.MultiplyAddAdjacent(b1, a);
            c12 += Avx512BW.MultiplyAddAdjacent(b2, a); c13 += Avx512BW.MultiplyAddAdjacent(b3, a);
            a = Vector512.Create(ap[2]).AsInt16();
            c20 += Avx512BW.MultiplyAddAdjacent(b0, a); c21 += Avx512BW.MultiplyAddAdjacent(b1, a);
            c22 += Avx512BW.MultiplyAddAdjacent(b2, a); c23 += Avx512BW.MultiplyAddAdjacent(b3, a);
            a = Vector512.Create(ap[3]).AsInt16();
            c30 += Avx512BW.MultiplyAddAdjacent(b0, a); c31 += Avx512BW.MultiplyAddAdjacent(b1, a);
            c32 += Avx512BW.MultiplyAddAdjacent(b2, a); c33 += Avx512BW.MultiplyAddAdjacent(b3, a);
            a = Vector512.Create(ap[4]).AsInt16();
            c40 += Avx512BW.MultiplyAddAdjacent(b0, a); c41 += Avx512BW.MultiplyAddAdjacent(b1, a);
            c42 += Avx512BW.MultiplyAddAdjacent(b2, a); c43 += Avx512BW.MultiplyAddAdjacent(b3, a);
            a = Vector512.Create(ap[5]).AsInt16();
            c50 += Avx512BW.MultiplyAddAdjacent(b0, a); c51 += Avx512BW.MultiplyAddAdjacent(b1, a);
            c52 += Avx512BW.MultiplyAddAdjacent(b2, a); c53 += Avx512BW.MultiplyAddAdjacent(b3, a);
            ap += 6;
            b += 128;
        }

        return c00 ^ c01 ^ c02 ^ c03 ^ c10 ^ c11 ^ c12 ^ c13 ^ c20 ^ c21 ^ c22 ^ c23 ^ c30 ^ c31 ^ c32 ^ c33
             ^ c40 ^ c41 ^ c42 ^ c43 ^ c50 ^ c51 ^ c52 ^ c53;
    }

    // 8 x 32 with the products of two k pairs summed before the accumulators (same add count, shorter chains).
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static Vector512<int> T8x32Unroll2(int kp, int* ap, short* b)
    {
        Vector512<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default;
        int k = 0;
        for (; k + 2 <= kp; k += 2)
        {
            Vector512<short> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 32);
            c00 = Dot(b0, ap, c00); c01 = Dot(b1, ap, c01);
            c10 = Dot(b0, ap + 1, c10); c11 = Dot(b1, ap + 1, c11);
            c20 = Dot(b0, ap + 2, c20); c21 = Dot(b1, ap + 2, c21);
            c30 = Dot(b0, ap + 3, c30); c31 = Dot(b1, ap + 3, c31);
            c40 = Dot(b0, ap + 4, c40); c41 = Dot(b1, ap + 4, c41);
            c50 = Dot(b0, ap + 5, c50); c51 = Dot(b1, ap + 5, c51);
            c60 = Dot(b0, ap + 6, c60); c61 = Dot(b1, ap + 6, c61);
            c70 = Dot(b0, ap + 7, c70); c71 = Dot(b1, ap + 7, c71);
            b0 = Vector512.Load(b + 64);
            b1 = Vector512.Load(b + 96);
            c00 = Dot(b0, ap + 8, c00); c01 = Dot(b1, ap + 8, c01);
            c10 = Dot(b0, ap + 9, c10); c11 = Dot(b1, ap + 9, c11);
            c20 = Dot(b0, ap + 10, c20); c21 = Dot(b1, ap + 10, c21);
            c30 = Dot(b0, ap + 11, c30); c31 = Dot(b1, ap + 11, c31);
            c40 = Dot(b0, ap + 12, c40); c41 = Dot(b1, ap + 12, c41);
            c50 = Dot(b0, ap + 13, c50); c51 = Dot(b1, ap + 13, c51);
            c60 = Dot(b0, ap + 14, c60); c61 = Dot(b1, ap + 14, c61);
            c70 = Dot(b0, ap + 15, c70); c71 = Dot(b1, ap + 15, c71);
            ap += 16;
            b += 128;
        }

        return c00 ^ c01 ^ c10 ^ c11 ^ c20 ^ c21 ^ c30 ^ c31 ^ c40 ^ c41 ^ c50 ^ c51 ^ c60 ^ c61 ^ c70 ^ c71;
    }

    [PerfFact]
    public void TileShapes()
    {
        const int Kp = 48;
        int[] a = new int[12 * Kp + 64];
        short[] b = new short[128 * Kp + 64];
        var rng = new Random(1);
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = rng.Next();
        }

        for (int i = 0; i < b.Length; i++)
        {
            b[i] = (short)rng.Next(-255, 256);
        }

        var names = new[] { "8x32", "12x32", "6x64", "8x32 unroll2" };
        var rows = new[] { 8, 12, 6, 8 };
        var cols = new[] { 32, 32, 64, 32 };
        var best = new double[4];
        Array.Fill(best, double.MaxValue);
        Vector512<int> sink = default;
        fixed (int* pa0 = a)
        fixed (short* pb0 = b)
        {
            int* pa = (int*)(((nint)pa0 + 63) & ~(nint)63);
            short* pb = (short*)(((nint)pb0 + 63) & ~(nint)63);
            for (int round = 0; round < 60; round++)
            {
                for (int v = 0; v < 4; v++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    for (int r = 0; r < 2000; r++)
                    {
                        sink ^= v switch
                        {
                            0 => T8x32(Kp, pa, pb),
                            1 => T12x32(Kp, pa, pb),
                            2 => T6x64(Kp, pa, pb),
                            _ => T8x32Unroll2(Kp, pa, pb),
                        };
                    }

                    best[v] = Math.Min(best[v], Stopwatch.GetElapsedTime(t0).TotalSeconds);
                }
            }
        }

        for (int v = 0; v < 4; v++)
        {
            double macs = 2000.0 * rows[v] * cols[v] * Kp * 2;
            output.WriteLine($"{names[v],-14}: {macs / best[v] / 1e9:F1} GMAC/s");
        }

        output.WriteLine($"(sink {sink.GetElement(0)})");
    }
}
