using System.Globalization;
using DefectDetection.Onnx.Kernels.Gemm;

namespace DefectDetection.Benchmarks.Onnx;

/// <summary>
/// <c>qgemm-balance [--threads 2]</c>: the column blocks the int8 GEMM chooses for the intra-op pool on MobileNetV2's
/// pointwise shapes (M output channels x N pixels): the block of the halving search, the balanced block
/// (QGemm.BalancedNc) and the tile counts of both.
/// </summary>
public static class QGemmBalanceReport
{
    private static readonly (int M, int N)[] Shapes =
    [
        (96, 12544), (16, 12544), (144, 3136), (24, 3136), (32, 3136), (192, 784), (32, 784), (64, 196), (384, 196), (96, 196),
        (576, 196), (160, 49), (960, 49), (320, 49), (1280, 49),
    ];

    public static int Run(string[] args)
    {
        int i = Array.IndexOf(args, "--threads");
        int threads = i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : 2;
        if (threads < 2)
        {
            Console.Error.WriteLine("usage: qgemm-balance [--threads N] (N >= 2: one thread does not balance)");
            return 2;
        }

        // The 512-bit tile (8 x 32) and the halving search of QGemm.Run.
        const int Mr = 8, Nr = 32;
        static int Tiles(int n, int block) => (n + block - 1) / block;
        foreach ((int m, int n) in Shapes)
        {
            int mc = Mr * (128 / Mr), nc = Nr * (256 / Nr);
            while (Tiles(m, mc) * Tiles(n, nc) < threads * 3 && (nc > Nr * 2 || mc > Mr * 2))
            {
                if (nc > Nr * 2 && (Tiles(n, nc) <= Tiles(m, mc) || mc <= Mr * 2))
                {
                    nc = Nr * Math.Max(1, nc / Nr / 2);
                }
                else
                {
                    mc = Mr * Math.Max(1, mc / Mr / 2);
                }
            }

            int balanced = QGemm.BalancedNc(m, n, mc, nc, Mr, Nr, threads);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"M={m} N={n}: Mc {mc}, Nc {nc} -> {balanced} ({Tiles(m, mc) * Tiles(n, nc)} -> {Tiles(m, mc) * Tiles(n, balanced)} tiles)"));
        }

        return 0;
    }
}
