using System.Diagnostics;
using DefectDetection.Onnx.Kernels.Conv;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Testing;
using Xunit.Abstractions;

namespace DefectDetection.Onnx.Tests.Models;

/// <summary>Single-thread timings of int8 kernel variants, alternated in one process (DEFECT_ONNX_PERF=1).</summary>
[Collection(PerfCollection.Name)]
public sealed class KernelTimings(ITestOutputHelper output)
{
    [PerfFact]
    public void Int8DepthwiseFlatVersusRows()
    {
        foreach ((int c, int h) in new[] { (960, 7), (384, 14), (192, 28), (144, 56) })
        {
            var (shape, x, conv) = DepthwiseCase(c, h, 1);
            byte[] y = new byte[x.Length];
            var flat = new List<double>();
            var rows = new List<double>();
            Conv2dInt8.RowDepthwiseEnabled = false; // the older kernels only (Int8DepthwiseRowsVersusOld compares the new ones)
            for (int r = 0; r < 1200; r++)
            {
                if (r == 400)
                {
                    flat.Clear(); // the first runs warm up (tiered compilation)
                    rows.Clear();
                }

                Conv2dInt8.FlatDepthwiseEnabled = (r & 1) == 0;
                long t0 = Stopwatch.GetTimestamp();
                conv.Run(x, 1, h, h, y, [], null);
                (Conv2dInt8.FlatDepthwiseEnabled ? flat : rows).Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
            }

            Conv2dInt8.FlatDepthwiseEnabled = true;
            Conv2dInt8.RowDepthwiseEnabled = true;
            output.WriteLine($"dw {c}x{h}x{h}: flat {flat.Order().ElementAt(flat.Count / 2):F1} us (min {flat.Min():F1}), rows {rows.Order().ElementAt(rows.Count / 2):F1} us (min {rows.Min():F1})");
        }
    }

    [PerfFact]
    public void Int8DepthwiseStride2PhasesVersusRows()
    {
        foreach ((int c, int h) in new[] { (96, 112), (144, 56), (192, 28) })
        {
            var (shape, x, conv) = DepthwiseCase(c, h, 2);
            byte[] y = new byte[c * shape.OutputHeight(h) * shape.OutputWidth(h)];
            var phases = new List<double>();
            var rows = new List<double>();
            Conv2dInt8.RowDepthwiseEnabled = false; // the older kernels only
            for (int r = 0; r < 1000; r++)
            {
                Conv2dInt8.PhaseDepthwiseEnabled = (r & 1) == 0;
                long t0 = Stopwatch.GetTimestamp();
                conv.Run(x, 1, h, h, y, [], null);
                if (r >= 300)
                {
                    (Conv2dInt8.PhaseDepthwiseEnabled ? phases : rows).Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                }
            }

            Conv2dInt8.PhaseDepthwiseEnabled = true;
            Conv2dInt8.RowDepthwiseEnabled = true;
            output.WriteLine($"dw s2 {c}x{h}x{h}: phases {phases.Order().ElementAt(phases.Count / 2):F1} us, rows {rows.Order().ElementAt(rows.Count / 2):F1} us");
        }
    }

    /// <summary>The row kernel (Conv2dInt8.DepthwiseRows) against the kernels it replaced, on the MobileNetV2 depthwise layers.</summary>
    [PerfFact]
    public void Int8DepthwiseRowsVersusOld()
    {
        var layers = new[]
        {
            (32, 112, 1), (96, 112, 2), (144, 56, 1), (144, 56, 2), (192, 28, 1), (192, 28, 2), (384, 14, 1), (576, 14, 1), (576, 14, 2), (960, 7, 1),
        };
        double sumNew = 0, sumOld = 0;
        foreach ((int c, int h, int stride) in layers)
        {
            var (shape, x, conv) = DepthwiseCase(c, h, stride);
            byte[] y = new byte[c * shape.OutputHeight(h) * shape.OutputWidth(h)];
            // old, rows only (no ring), gapped up to any width, rows with the float ring
            var times = new[] { new List<double>(), new List<double>(), new List<double>(), new List<double>() };
            int defaultMax = Conv2dInt8.GappedDepthwiseMaxWidth;
            bool defaultRing = Conv2dInt8.RowRingEnabled;
            for (int r = 0; r < 1600; r++)
            {
                int v = r % 4;
                Conv2dInt8.RowDepthwiseEnabled = v != 0;
                Conv2dInt8.GappedDepthwiseMaxWidth = v == 2 ? int.MaxValue : 0;
                Conv2dInt8.RowRingEnabled = v == 3;
                long t0 = Stopwatch.GetTimestamp();
                conv.Run(x, 1, h, h, y, [], null);
                if (r >= 400)
                {
                    times[v].Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                }
            }

            Conv2dInt8.RowDepthwiseEnabled = true;
            Conv2dInt8.GappedDepthwiseMaxWidth = defaultMax;
            Conv2dInt8.RowRingEnabled = defaultRing;
            double mo = Median(times[0]), mr = Median(times[1]), mg = Median(times[2]), mring = Median(times[3]);
            double best = stride == 2 ? mr : h <= defaultMax ? mg : h > 16 ? mring : mr;
            sumNew += best;
            sumOld += mo;
            output.WriteLine($"dw s{stride} {c}x{h}x{h}: old {mo:F1} us (min {times[0].Min():F1}), rows {mr:F1} us (min {times[1].Min():F1}), " +
                             $"gapped {mg:F1} us (min {times[2].Min():F1}), ring {mring:F1} us (min {times[3].Min():F1}); default {mo / best:F2}x faster");
        }

        output.WriteLine($"sum of medians: default {sumNew:F1} us, old {sumOld:F1} us");
    }

    /// <summary>
    /// The depthwise layers of the int8 MobileNetV2 in the model (per-node profile), the row/gapped kernels against the
    /// older ones, alternated run by run in one session (DEFECT_ONNX_PERF_BATCH / _THREADS as in LayerProfile).
    /// </summary>
    [PerfFact]
    public void Int8DepthwiseInModelRowsVersusOld()
    {
        var (session, feeds) = PerfSession.MobileNetV2Int8();
        using var owned = session;
        var core = session.Core;
        int[] dw = Enumerable.Range(0, core.Kernels.Length).Where(k => core.Kernels[k].Node.OpType == "QLinearConv" && core.Kernels[k].Node.GetInt("group", 1) > 1).ToArray();
        const int Runs = 40;
        var ticks = new[] { new List<long[]>(), new List<long[]>() }; // old, new
        for (int r = 0; r < (2 * Runs) + 6; r++)
        {
            bool rows = (r & 1) == 1;
            Conv2dInt8.RowDepthwiseEnabled = rows;
            core.ProfileTicks = new long[core.Kernels.Length];
            session.Run(feeds);
            if (r >= 6)
            {
                ticks[rows ? 1 : 0].Add(core.ProfileTicks);
            }
        }

        core.ProfileTicks = null;
        Conv2dInt8.RowDepthwiseEnabled = true;
        double Ms(List<long[]> runs, int k) => runs.Select(a => a[k]).Order().ElementAt(runs.Count / 2) * 1000.0 / Stopwatch.Frequency;
        double sumOld = 0, sumNew = 0;
        foreach (int k in dw)
        {
            double mo = Ms(ticks[0], k), mn = Ms(ticks[1], k);
            sumOld += mo;
            sumNew += mn;
            output.WriteLine($"{k,3} {mo,7:F3} ms old, {mn,7:F3} ms new ({mo / mn:F2}x)  {core.Kernels[k].Node.Name}");
        }

        output.WriteLine($"depthwise sum of medians: old {sumOld:F3} ms, new {sumNew:F3} ms ({sumOld / sumNew:F2}x), batch {feeds["input"].Shape[0]}, threads {session.Options.IntraOpThreads}");
    }

    [PerfFact]
    public void Int8PointwiseGmacs()
    {
        foreach ((int m, int k, int h) in new[] { (96, 16, 112), (144, 24, 56), (24, 144, 56), (192, 32, 28), (576, 96, 14), (96, 576, 14), (1280, 320, 7), (320, 960, 7), (960, 160, 7) })
        {
            var shape = new Conv2dShape(k, m, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0);
            var rng = new Random(1);
            byte[] wb = new byte[m * k];
            rng.NextBytes(wb);
            byte[] x = new byte[k * h * h];
            rng.NextBytes(x);
            var conv = new Conv2dInt8(shape, Array.ConvertAll(wb, v => (sbyte)v), [0], new int[m], 3, new Requantization(Enumerable.Repeat(0.001f, m).ToArray(), 5, false));
            byte[] y = new byte[m * h * h];
            var fused = new List<double>();
            var plain = new List<double>();
            for (int r = 0; r < 800; r++)
            {
                QGemm.FusedRequantEnabled = (r & 1) == 0;
                long t0 = Stopwatch.GetTimestamp();
                conv.Run(x, 1, h, h, y, [], null);
                if (r >= 200)
                {
                    (QGemm.FusedRequantEnabled ? fused : plain).Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                }
            }

            QGemm.FusedRequantEnabled = true;
            double us = fused.Order().ElementAt(fused.Count / 2), us0 = plain.Order().ElementAt(plain.Count / 2);
            output.WriteLine($"pw M={m} K={k} N={h * h}: fused {us:F1} us ({(double)m * k * h * h / us / 1000:F1} GMAC/s), plain {us0:F1} us ({(double)m * k * h * h / us0 / 1000:F1} GMAC/s)");
        }
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    // A random c x h x h int8 depthwise 3x3 layer (pad 1) and its input, as the timing facts use it.
    private static (Conv2dShape Shape, byte[] X, Conv2dInt8 Conv) DepthwiseCase(int c, int h, int stride)
    {
        var shape = new Conv2dShape(c, c, c, 3, 3, stride, stride, 1, 1, 1, 1, 1, 1);
        var rng = new Random(1);
        byte[] wb = new byte[c * 9];
        rng.NextBytes(wb);
        byte[] x = new byte[c * h * h];
        rng.NextBytes(x);
        return (shape, x, new Conv2dInt8(shape, Array.ConvertAll(wb, v => (sbyte)v), [0], new int[c], 3, new Requantization([0.001f], 5, false)));
    }
}
