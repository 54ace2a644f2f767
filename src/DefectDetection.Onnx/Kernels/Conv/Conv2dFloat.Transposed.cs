using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Kernels.Conv;

// Small output planes (the 7x7 planes of a ResNet's last stage) as the transposed GEMM Y^T = X_col^T W^T: the
// output pixels are the GEMM's M (MR = 8 rows per panel) and the output channels its N (NR = 32). A 49-pixel plane
// then computes 56 rows instead of the 64 columns (two 32-wide panels) the channel-major GEMM computes. The input is
// copied into a zero-padded image and gathered into packed A panels (the transposed im2col); the transposed weights
// are packed on first use; the pixel-major result is transposed into the output. Strided convolutions (up to
// 28x28 outputs) use it too: the gather costs less than the strided im2col copies, measured here on ResNet-18.
internal sealed unsafe partial class Conv2dFloat
{
    private const int TransposedMaxPlane = 64;
    private const int TransposedMaxStridedPlane = 784;

    private float[]? _packedT; // full-K B panels of W^T (K x M), built on first use

    private bool UsesTransposed(int outPlane)
        => _width == 512 && _shape.Group == 1 && !_shape.IsDepthwise && !_shape.IsPointwise
           && (outPlane <= TransposedMaxPlane || (_shape.StrideH > 1 && outPlane <= TransposedMaxStridedPlane))
           && _shape.OutChannels >= 32 && Sgemm.TileOf(_width).Mr == 8;

    // The zero-padded image, the im2col matrix as packed A panels (K x 8 each), the pixel-major result (plane x M),
    // then the ints: the K row offsets and the pixel offsets.
    private long TransposedScratchFloats(int inH, int inW, int outPlane)
    {
        var s = _shape;
        (int mr, _) = Sgemm.TileOf(_width);
        long padded = RoundUp((long)s.InChannels * (inH + s.PadTop + s.PadBottom) * (inW + s.PadLeft + s.PadRight), 16);
        int kg = s.WeightsPerOutputChannel;
        return padded + ((long)kg * RoundUp(outPlane, mr)) + ((long)outPlane * s.OutChannels) + kg + RoundUp(outPlane, mr);
    }

    private float[] PackedTransposed()
    {
        return LazyInitializer.EnsureInitialized(ref _packedT, () =>
        {
            fixed (float* w = _weights)
            {
                return Sgemm.PackWholeB(Sgemm.Operand.Raw(w, _shape.WeightsPerOutputChannel, true), _shape.WeightsPerOutputChannel,
                                        _shape.OutChannels, _width);
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunTransposed(float* x, int batch, int inH, int inW, float* y, int outH, int outW, float* scratch,
                               float* bias, IntraOpThreadPool? pool)
    {
        var s = _shape;
        (int mr, _) = Sgemm.TileOf(_width);
        int m = s.OutChannels, kg = s.WeightsPerOutputChannel, plane = outH * outW, rows = (int)RoundUp(plane, mr);
        int hp = inH + s.PadTop + s.PadBottom, wp = inW + s.PadLeft + s.PadRight;
        long planeP = (long)hp * wp;
        float* padded = scratch;
        float* col = padded + RoundUp(s.InChannels * planeP, 16);
        float* yt = col + ((long)kg * rows);
        int* off = (int*)(yt + ((long)plane * m));
        int* pix = off + kg;
        int khw = s.KernelH * s.KernelW;
        for (int k = 0; k < kg; k++)
        {
            int c = k / khw, ky = (k % khw) / s.KernelW, kx = k % s.KernelW;
            off[k] = checked((int)((c * planeP) + ((long)ky * s.DilationH * wp) + (kx * s.DilationW)));
        }

        for (int p = 0; p < rows; p++)
        {
            // Rows past the plane read pixel 0: computed, never stored.
            pix[p] = p < plane ? ((p / outW) * s.StrideH * wp) + ((p % outW) * s.StrideW) : 0;
        }

        fixed (float* bt = PackedTransposed())
        {
            for (int b = 0; b < batch; b++)
            {
                var pad = new PadWork
                {
                    X = x + ((long)b * s.InChannels * inH * inW), P = padded, InH = inH, InW = inW,
                    Layout = new PhaseLayout(hp, wp, 1, 1), Top = s.PadTop, Left = s.PadLeft,
                };
                IntraOpThreadPool.For(s.InChannels * planeP > 65536 ? pool : null, s.InChannels, ref pad);
                var gather = new GatherWork { P = padded, Col = col, Off = off, Pix = pix, K = kg };
                IntraOpThreadPool.For((long)rows * kg > 32768 ? pool : null, rows / 8, ref gather);
                Sgemm.Run(plane, m, kg, _width, Sgemm.Operand.Prepacked(col), Sgemm.Operand.Prepacked(bt), yt, m, 0f, null, bias, _act, pool);
                float* yb = y + ((long)b * m * plane);
                for (int p = 0; p < plane; p++)
                {
                    float* src = yt + ((long)p * m);
                    for (int c = 0; c < m; c++)
                    {
                        yb[((long)c * plane) + p] = src[c];
                    }
                }
            }
        }
    }

    /// <summary>
    /// Writes A panels [start, end) of the transposed im2col (8 pixels each, K x 8, k-major):
    /// A[p][k] = padded[Off[k] + Pix[p]], panel by panel so that the writes are sequential.
    /// </summary>
    private struct GatherWork : IParallelWork
    {
        public float* P, Col;
        public int* Off, Pix;
        public int K;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(int start, int end)
        {
            for (int panel = start; panel < end; panel++)
            {
                float* dst = Col + ((long)panel * K * 8);
                int* pix = Pix + (panel * 8);
                if (Avx2.IsSupported)
                {
                    Vector256<int> idx = Vector256.Load(pix);
                    for (int k = 0; k < K; k++)
                    {
                        Vector256.Store(Avx2.GatherVector256(P + Off[k], idx, 4), dst + (k * 8));
                    }
                }
                else
                {
                    for (int k = 0; k < K; k++)
                    {
                        float* src = P + Off[k];
                        for (int r = 0; r < 8; r++)
                        {
                            dst[(k * 8) + r] = src[pix[r]];
                        }
                    }
                }
            }
        }
    }
}
