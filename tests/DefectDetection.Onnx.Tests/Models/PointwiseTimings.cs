using System.Diagnostics;
using DefectDetection.Onnx.Kernels.Conv;
using DefectDetection.Onnx.Kernels.Gemm;
using Xunit.Abstractions;

namespace DefectDetection.Onnx.Tests.Models;

/// <summary>
/// Single-thread A/B timings of the int8 GEMM convolutions (DEFECT_ONNX_PERF=1): each variant switch is flipped on
/// every run in one process and the medians are compared.
/// </summary>
[Collection(PerfCollection.Name)]
public sealed class PointwiseTimings(ITestOutputHelper output)
{
    private static readonly (int C, int M, int K, int S, int H, int N)[] Layers =
    [
        (3, 32, 3, 2, 224, 1), (32, 16, 1, 1, 112, 1), (16, 96, 1, 1, 112, 1), (96, 24, 1, 1, 56, 1), (24, 144, 1, 1, 56, 1),
        (144, 24, 1, 1, 56, 1), (144, 32, 1, 1, 28, 1), (32, 192, 1, 1, 28, 1), (192, 32, 1, 1, 28, 1), (192, 64, 1, 1, 14, 1),
        (64, 384, 1, 1, 14, 1), (384, 64, 1, 1, 14, 1), (384, 96, 1, 1, 14, 1), (96, 576, 1, 1, 14, 1), (576, 96, 1, 1, 14, 1),
        (576, 160, 1, 1, 7, 1), (160, 960, 1, 1, 7, 1), (960, 160, 1, 1, 7, 1), (960, 320, 1, 1, 7, 1), (320, 1280, 1, 1, 7, 1),
        (32, 192, 1, 1, 28, 8), (96, 576, 1, 1, 14, 8), (576, 96, 1, 1, 14, 8), (160, 960, 1, 1, 7, 8), (960, 160, 1, 1, 7, 8), (320, 1280, 1, 1, 7, 8),
    ];

    [PerfFact]
    public void NarrowEdgeVersusFullPanel() => Compare("narrow edge slices", v => QGemm.NarrowEdgeEnabled = v);

    [PerfFact]
    public void BytePairPackVersusOld() => Compare("byte-pair packing", v => QGemm.BytePairPackEnabled = v);

    [PerfFact]
    public void BatchPackingVersusImageByImage() => Compare("batch packing", v => Conv2dInt8.BatchPackingEnabled = v);

    [PerfFact]
    public void Chunk1024VersusChunk4096() => Compare("im2col chunks of 1024 pixels", v => Conv2dInt8.MaxChunkPixels = v ? 1024 : 4096);

    [PerfFact]
    public void Chunk1024VersusChunk4096TwoThreads()
    {
        using var pool = new DefectDetection.Onnx.Runtime.Threading.IntraOpThreadPool(2);
        Compare("im2col chunks of 1024 pixels, 2 threads", v => Conv2dInt8.MaxChunkPixels = v ? 1024 : 4096, pool, 1);
    }

    [PerfFact]
    public void VbmiNarrowingVersusVpmovdb() => Compare("vpermt2b narrowing", v => QGemm.VbmiNarrowingEnabled = v);

    private void Compare(string name, Action<bool> set, DefectDetection.Onnx.Runtime.Threading.IntraOpThreadPool? pool = null, int layers = int.MaxValue)
    {
        double sumNew = 0, sumOld = 0;
        var list = Layers.Take(layers).ToArray();
        foreach (var (l, index) in list.Concat(list).Select((l, i) => (l, i)))
        {
            bool report = index >= list.Length; // the first pass warms every variant's code to its final tier
            int pad = l.K / 2;
            var shape = new Conv2dShape(l.C, l.M, 1, l.K, l.K, l.S, l.S, 1, 1, pad, pad, pad, pad);
            var rng = new Random(1);
            byte[] wb = new byte[l.M * l.C * l.K * l.K];
            rng.NextBytes(wb);
            byte[] x = new byte[l.N * l.C * l.H * l.H];
            rng.NextBytes(x);
            var conv = new Conv2dInt8(shape, Array.ConvertAll(wb, v => (sbyte)v), [0], Enumerable.Range(0, l.M).ToArray(), 3,
                                      new Requantization(Enumerable.Repeat(0.001f, l.M).ToArray(), 5, false, 5, 200));
            int oh = shape.OutputHeight(l.H);
            byte[] y = new byte[l.N * l.M * oh * oh];
            byte[] scratch = new byte[conv.ScratchBytes(l.N, l.H, l.H)];
            var on = new List<double>();
            var off = new List<double>();
            int runs = Math.Clamp((int)(4e8 / ((double)l.M * l.C * l.K * l.K * oh * oh * l.N)), 40, 600);
            for (int r = 0; r < 60; r++)
            {
                set((r & 1) == 0); // warm-up: every variant's code at its final tier
                conv.Run(x, l.N, l.H, l.H, y, scratch, pool);
            }

            for (int r = 0; r < runs; r++)
            {
                bool v = (r & 1) == 0;
                set(v);
                long t0 = Stopwatch.GetTimestamp();
                conv.Run(x, l.N, l.H, l.H, y, scratch, pool);
                if (r >= runs / 4)
                {
                    (v ? on : off).Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                }
            }

            set(true);
            double a = on.Order().ElementAt(on.Count / 2), b = off.Order().ElementAt(off.Count / 2);
            double aMin = on.Min(), bMin = off.Min();
            double macs = (double)l.M * l.C * l.K * l.K * oh * oh * l.N;
            if (!report)
            {
                continue;
            }

            if (l.N == 1)
            {
                sumNew += a;
                sumOld += b;
            }

            output.WriteLine($"{l.C,4}->{l.M,-4} k{l.K} s{l.S} {l.H,3}^2 b{l.N}: new {a,8:F1} us ({macs / a / 1000,5:F1} GMAC/s)  old {b,8:F1} us ({macs / b / 1000,5:F1} GMAC/s)  min new {aMin,8:F1} old {bMin,8:F1} ({macs / aMin / 1000,5:F1} / {macs / bMin / 1000,5:F1} GMAC/s)");
        }

        output.WriteLine($"{name}: batch-1 layers new {sumNew / 1000:F3} ms, old {sumOld / 1000:F3} ms");
    }
}
