using System.Diagnostics;
using DefectDetection.Onnx.Kernels.Gemm;
using Xunit.Abstractions;

namespace DefectDetection.Onnx.Tests.Models;

/// <summary>The int8 micro-kernel alone on L1-resident panels (DEFECT_ONNX_PERF=1): its ceiling in GMAC/s.</summary>
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

/// <summary>QGemm.Run with requantized output: one wide GEMM against several narrow ones (DEFECT_ONNX_PERF=1).</summary>
public sealed unsafe class QGemmWideTimings(ITestOutputHelper output)
{
    [PerfFact]
    public void WideVersusNarrow()
    {
        foreach ((int m, int k, int n, int parts) in new[] { (192, 32, 6272, 8), (576, 96, 1568, 8), (960, 160, 392, 8), (192, 32, 784, 1) })
        {
            var rng = new Random(2);
            byte[] a = new byte[m * k];
            rng.NextBytes(a);
            byte[] x = new byte[k * n];
            rng.NextBytes(x);
            byte[] y = new byte[m * n];
            var conv = new DefectDetection.Onnx.Kernels.Conv.Conv2dInt8(new DefectDetection.Onnx.Kernels.Conv.Conv2dShape(k, m, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0),
                Array.ConvertAll(a, v => (sbyte)v), [0], new int[m], 3, new Requantization([0.001f], 5, false));
            var wide = new List<double>();
            var narrow = new List<double>();
            for (int r = 0; r < 400; r++)
            {
                long t0 = Stopwatch.GetTimestamp();
                if ((r & 1) == 0)
                {
                    conv.Run(x, 1, 1, n, y, [], null);
                }
                else
                {
                    for (int p = 0; p < parts; p++)
                    {
                        conv.Run(x.AsSpan(p * k * (n / parts), k * (n / parts)), 1, 1, n / parts, y.AsSpan(p * m * (n / parts), m * (n / parts)), [], null);
                    }
                }

                if (r >= 100)
                {
                    ((r & 1) == 0 ? wide : narrow).Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                }
            }

            double macs = (double)m * k * n;
            output.WriteLine($"M={m} K={k} N={n}: wide min {wide.Min():F1} us ({macs / wide.Min() / 1000:F1} GMAC/s), {parts} parts min {narrow.Min():F1} us ({macs / narrow.Min() / 1000:F1} GMAC/s)");
        }
    }
}

/// <summary>Batch packing three ways, alternated (DEFECT_ONNX_PERF=1).</summary>
public sealed unsafe class BatchThreeWayTimings(ITestOutputHelper output)
{
    [PerfFact]
    public void ThreeWay()
    {
        foreach ((int m, int k, int h, int batch) in new[] { (192, 32, 28, 8), (576, 96, 14, 8), (960, 160, 7, 8) })
        {
            var rng = new Random(2);
            byte[] a = new byte[m * k];
            rng.NextBytes(a);
            int n = h * h * batch;
            byte[] x = new byte[k * n];
            rng.NextBytes(x);
            byte[] y = new byte[m * n];
            var conv = new DefectDetection.Onnx.Kernels.Conv.Conv2dInt8(new DefectDetection.Onnx.Kernels.Conv.Conv2dShape(k, m, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0),
                Array.ConvertAll(a, v => (sbyte)v), [0], Enumerable.Range(0, m).ToArray(), 3, new Requantization(Enumerable.Repeat(0.001f, m).ToArray(), 5, false, 5, 200));
            byte[] scratch = new byte[conv.ScratchBytes(batch, h, h)];
            var t = new List<double>[3] { new(), new(), new() };
            for (int r = 0; r < 600; r++)
            {
                int v = r % 3;
                long t0 = Stopwatch.GetTimestamp();
                if (v == 0)
                {
                    conv.Run(x, 1, 1, n, y, [], null);
                }
                else
                {
                    DefectDetection.Onnx.Kernels.Conv.Conv2dInt8.BatchPackingEnabled = v == 1;
                    conv.Run(x, batch, h, h, y, scratch, null);
                    DefectDetection.Onnx.Kernels.Conv.Conv2dInt8.BatchPackingEnabled = true;
                }

                if (r >= 150)
                {
                    t[v].Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                }
            }

            output.WriteLine($"M={m} K={k} {h}x{h} b{batch}: wide plane {t[0].Min():F1} us, batch packed {t[1].Min():F1} us, image by image {t[2].Min():F1} us (medians {t[0].Order().ElementAt(t[0].Count / 2):F1} / {t[1].Order().ElementAt(t[1].Count / 2):F1} / {t[2].Order().ElementAt(t[2].Count / 2):F1})");
        }
    }
}
