using System.Runtime.CompilerServices;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Kernels.Conv;

// Small output planes (the 7x7 planes of a ResNet's last stage) as the transposed GEMM Y^T = X_col^T W^T: the
// output pixels are the GEMM's M (MR = 8 rows per panel) and the output channels its N (NR = 32). A 49-pixel plane
// then computes 56 rows instead of the 64 columns (two 32-wide panels) the channel-major GEMM computes. The im2col
// matrix is written directly as packed A panels; the transposed weights are packed on first use; the result,
// pixel-major, is transposed into the output.
internal sealed unsafe partial class Conv2dFloat
{
    private const int TransposedMaxPlane = 64;

    private float[]? _packedT; // full-K B panels of W^T (K x M), built on first use

    private bool UsesTransposed(int outPlane)
        => _width == 512 && _shape.Group == 1 && !_shape.IsDepthwise && !_shape.IsPointwise
           && outPlane <= TransposedMaxPlane && _shape.OutChannels >= 32;

    // The im2col matrix as packed A panels (K x 8 each), then the pixel-major result (plane x M).
    private long TransposedScratchFloats(int outPlane)
    {
        (int mr, _) = Sgemm.TileOf(_width);
        return ((long)_shape.WeightsPerOutputChannel * RoundUp(outPlane, mr)) + ((long)outPlane * _shape.OutChannels);
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
        int m = s.OutChannels, kg = s.WeightsPerOutputChannel, plane = outH * outW;
        float* col = scratch;
        float* yt = scratch + ((long)kg * RoundUp(plane, mr));
        fixed (float* bt = PackedTransposed())
        {
            for (int b = 0; b < batch; b++)
            {
                var im2col = new Im2ColWork
                {
                    Shape = s, X = x + ((long)b * s.InChannels * inH * inW), InH = inH, InW = inW, OutH = outH, OutW = outW,
                    Col = col, Count = plane, Nr = mr,
                };
                IntraOpThreadPool.For((long)plane * kg > 32768 ? pool : null, kg, ref im2col);
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
}
