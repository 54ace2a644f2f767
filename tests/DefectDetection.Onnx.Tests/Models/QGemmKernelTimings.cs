using System.Diagnostics;
using DefectDetection.Onnx.Kernels.Gemm;
using Xunit.Abstractions;

namespace DefectDetection.Onnx.Tests.Models;

/// <summary>The int8 micro-kernel alone on L1-resident panels (DEFECT_ONNX_PERF=1): its ceiling in GMAC/s.</summary>
[Collection(PerfCollection.Name)]
public sealed unsafe class QGemmKernelTimings(ITestOutputHelper output)
{
    [PerfFact]
    public void Kernel512RequantCeiling()
    {
        foreach (int kp in new[] { 8, 12, 16, 48, 128 })
        {
            short[] a = new short[8 * kp * 2];
            short[] b = new short[32 * kp * 2];
            var rng = new Random(3);
            for (int i = 0; i < a.Length; i++)
            {
                a[i] = (short)rng.Next(-255, 256);
            }

            for (int i = 0; i < b.Length; i++)
            {
                b[i] = (short)rng.Next(-255, 256);
            }

            byte[] c = new byte[8 * 32];
            float[] scales = [0.001f];
            int[] bias = new int[8];
            fixed (short* pa = a)
            fixed (short* pb = b)
            fixed (byte* pc = c)
            fixed (float* ps = scales)
            fixed (int* pbias = bias)
            {
                var o = new QGemm.Output { Cq = pc, Ldcq = 32, Scales = ps, BiasRow = pbias, ZeroPoint = 3, Min = 0, Max = 255 };
                int reps = 2_000_000 / kp;
                double best = double.MaxValue;
                for (int t = 0; t < 15; t++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    for (int r = 0; r < reps; r++)
                    {
                        QGemm.Kernel512Requant(kp, pa, pb, o, 0, pc);
                    }

                    best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
                }

                double macs = (double)reps * 8 * 32 * kp * 2;
                output.WriteLine($"kPairs {kp,3}: {macs / best / 1e9:F1} GMAC/s, {best / reps * 1e9:F1} ns per tile");
            }
        }
    }
}

/// <summary>The column blocks chosen for the pool (DEFECT_ONNX_PERF=1): MobileNetV2's pointwise shapes on 2 threads.</summary>
[Collection(PerfCollection.Name)]
public sealed class QGemmBalanceReport(ITestOutputHelper output)
{
    [PerfFact]
    public void BalancedColumnBlocks()
    {
        foreach ((int m, int n) in new[] { (96, 12544), (16, 12544), (144, 3136), (24, 3136), (32, 3136), (192, 784), (32, 784), (64, 196), (384, 196), (96, 196), (576, 196), (160, 49), (960, 49), (320, 49), (1280, 49) })
        {
            int mc = 128, nc = 256;
            while (((m + mc - 1) / mc) * ((n + nc - 1) / nc) < 6 && (nc > 64 || mc > 16))
            {
                if (nc > 64 && (((n + nc - 1) / nc) <= ((m + mc - 1) / mc) || mc <= 16))
                {
                    nc = 32 * Math.Max(1, nc / 32 / 2);
                }
                else
                {
                    mc = 8 * Math.Max(1, mc / 8 / 2);
                }
            }

            int b = QGemm.BalancedNc(m, n, mc, nc, 8, 32, 2);
            output.WriteLine($"M={m} N={n}: Mc {mc}, Nc {nc} -> {b} ({(m + mc - 1) / mc * ((n + nc - 1) / nc)} -> {(m + mc - 1) / mc * ((n + b - 1) / b)} tiles)");
        }
    }
}
