using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Kernels.Conv;

/// <summary>
/// A float 2-D convolution (NCHW) with fused bias and activation. Created once per node with the constant weights,
/// which it packs for the GEMM micro-kernel; <see cref="Run"/> changes no state, so one instance serves many threads.
/// 1x1 stride-1 convolutions are a GEMM straight on the NCHW input; depthwise convolutions use a direct kernel;
/// with the 512-bit kernels, other stride-1 convolutions are an implicit GEMM on a padded copy of the input
/// (Conv2dFloat.Implicit.cs); everything else goes through im2col, written as the GEMM's packed B panels.
/// </summary>
internal sealed unsafe partial class Conv2dFloat
{
    private readonly Conv2dShape _shape;
    private readonly float[] _weights;      // original layout [M, C/g, kH, kW]
    private readonly float[]? _packed;      // per group: full-K A panels
    private readonly long _packedGroupStride;
    private readonly float[] _bias;
    private readonly ActivationParams _act;
    private readonly int _width;
    private readonly int _nr;               // the micro-kernel's column count: im2col writes B panels of this width

    /// <summary>Creates the convolution.</summary>
    /// <param name="shape">The geometry (validated).</param>
    /// <param name="weights">[M, C / group, kH, kW].</param>
    /// <param name="bias">[M], or empty for none.</param>
    /// <param name="act">Activation applied after the bias.</param>
    /// <param name="vectorBits">The widest vector to use (see <see cref="KernelOptions.Resolve"/>); null for the widest available.</param>
    public Conv2dFloat(in Conv2dShape shape, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, ActivationParams act, int? vectorBits = null)
    {
        shape.Validate();
        if (weights.Length != (long)shape.OutChannels * shape.WeightsPerOutputChannel)
        {
            throw new ArgumentException("The weights must hold M x C/group x kH x kW values.", nameof(weights));
        }

        if (!bias.IsEmpty && bias.Length != shape.OutChannels)
        {
            throw new ArgumentException("The bias must hold M values.", nameof(bias));
        }

        _shape = shape;
        _weights = weights.ToArray();
        _bias = bias.ToArray();
        _act = act;
        _width = KernelOptions.Resolve(vectorBits);
        _nr = Sgemm.TileOf(_width).Nr;
        if (!shape.IsDepthwise)
        {
            int mg = shape.OutChannelsPerGroup, kg = shape.WeightsPerOutputChannel;
            (int mr, _) = Sgemm.TileOf(_width);
            _packedGroupStride = (long)((mg + mr - 1) / mr) * mr * kg;
            _packed = new float[Math.Max(1, _packedGroupStride * shape.Group)];
            fixed (float* w = _weights)
            {
                for (int g = 0; g < shape.Group; g++)
                {
                    float[] panels = Sgemm.PackWholeA(Sgemm.Operand.Raw(w + ((long)g * mg * kg), kg, false), mg, kg, _width);
                    Array.Copy(panels, 0, _packed, g * _packedGroupStride, _packedGroupStride);
                }
            }
        }
    }

    /// <summary>The geometry.</summary>
    public Conv2dShape Shape => _shape;

    private bool UsesIm2Col => !_shape.IsDepthwise && !_shape.IsPointwise;

    private static long RoundUp(long n, int multiple) => (n + multiple - 1) / multiple * multiple;

    /// <summary>The number of floats of scratch <see cref="Run"/> needs for this input size (0 if none).</summary>
    public long ScratchFloats(int batch, int inH, int inW)
    {
        if (UsesIm2Col)
        {
            int outH = _shape.OutputHeight(inH), outW = _shape.OutputWidth(inW);
            if (outH > 0 && outW > 0 && UsesTransposed(outH * outW))
            {
                return TransposedScratchFloats(inH, inW, outH * outW);
            }

            if (outH > 0 && outW > 0 && UsesImplicitGemm)
            {
                return ImplicitScratchFloats(inH, inW, outH);
            }

            return outH <= 0 || outW <= 0 || UsesChunks(_shape, (long)outH * outW) ? 0 : (long)_shape.WeightsPerOutputChannel * RoundUp(outH * outW, _nr);
        }

        return 0;
    }

    /// <summary>
    /// Output pixels per im2col chunk: the chunk's im2col block (K x chunk) stays in L2 while the GEMM consumes it.
    /// </summary>
    internal static int ChunkPixels(in Conv2dShape s, int elementSize)
        => Math.Max(256, Math.Min(4096, (512 * 1024 / elementSize / Math.Max(1, s.WeightsPerOutputChannel)) & ~63));

    // Large outputs are convolved in pixel chunks, one per task, each with its own L2-sized im2col block
    // (thread-local scratch); small ones im2col the whole plane into the caller's scratch and parallelise the GEMM.
    private static bool UsesChunks(in Conv2dShape s, long outPlane) => outPlane > 2L * ChunkPixels(s, sizeof(float));

    /// <summary>
    /// Computes output[N, M, outH, outW] from input[N, C, inH, inW]. <paramref name="scratch"/> must hold at least
    /// <see cref="ScratchFloats"/> floats (contents ignored). Input and output must not overlap.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(ReadOnlySpan<float> input, int batch, int inH, int inW, Span<float> output,
                    Span<float> scratch, IntraOpThreadPool? pool)
    {
        var s = _shape;
        (int outH, int outW) = s.CheckRun(input.Length, batch, inH, inW, output.Length);
        if (scratch.Length < ScratchFloats(batch, inH, inW))
        {
            throw new ArgumentException("The scratch buffer is too small.", nameof(scratch));
        }

        if (batch == 0)
        {
            return;
        }

        fixed (float* x = input)
        fixed (float* y = output)
        fixed (float* col = scratch)
        fixed (float* bias = _bias)
        {
            if (s.IsDepthwise)
            {
                RunDepthwise(x, batch, inH, inW, y, outH, outW, pool);
                return;
            }

            int cg = s.InChannelsPerGroup, mg = s.OutChannelsPerGroup, kg = s.WeightsPerOutputChannel;
            int inPlane = inH * inW, outPlane = outH * outW;
            fixed (float* packed = _packed)
            {
                if (UsesTransposed(outPlane))
                {
                    RunTransposed(x, batch, inH, inW, y, outH, outW, col, _bias.Length > 0 ? bias : null, pool);
                    return;
                }

                if (UsesImplicitGemm)
                {
                    RunImplicit(x, batch, inH, inW, y, outH, outW, col, _bias.Length > 0 ? bias : null, packed, pool);
                    return;
                }

                for (int b = 0; b < batch; b++)
                {
                    for (int g = 0; g < s.Group; g++)
                    {
                        float* xg = x + ((((long)b * s.InChannels) + (g * cg)) * inPlane);
                        float* yg = y + ((((long)b * s.OutChannels) + (g * mg)) * outPlane);
                        Sgemm.Operand bOperand;
                        if (s.IsPointwise)
                        {
                            if (_width == 512 && inPlane >= 32 && (long)cg * inPlane <= int.MaxValue)
                            {
                                RunPointwise(xg, yg, inPlane, packed + (g * _packedGroupStride), _bias.Length > 0 ? bias + (g * mg) : null, pool);
                                continue;
                            }

                            bOperand = Sgemm.Operand.Raw(xg, inPlane, false);
                        }
                        else if (UsesChunks(s, outPlane))
                        {
                            var chunks = new ChunkWork
                            {
                                Conv = new Im2ColWork { Shape = s, X = xg, InH = inH, InW = inW, OutH = outH, OutW = outW, Nr = _nr },
                                Chunk = (int)RoundUp(ChunkPixels(s, sizeof(float)), _nr),
                                Y = yg, A = packed + (g * _packedGroupStride),
                                Bias = _bias.Length > 0 ? bias + (g * mg) : null, Act = _act, Width = _width, Mg = mg,
                            };
                            IntraOpThreadPool.For(pool, (outPlane + chunks.Chunk - 1) / chunks.Chunk, ref chunks);
                            continue;
                        }
                        else
                        {
                            var im2col = new Im2ColWork { Shape = s, X = xg, InH = inH, InW = inW, OutH = outH, OutW = outW, Col = col, Count = outPlane, Nr = _nr };
                            IntraOpThreadPool.For((long)outPlane * kg > 32768 ? pool : null, kg, ref im2col);
                            bOperand = Sgemm.Operand.Prepacked(col);
                        }

                        Sgemm.Run(mg, outPlane, kg, _width, Sgemm.Operand.Prepacked(packed + (g * _packedGroupStride)), bOperand,
                                  yg, outPlane, 0f, _bias.Length > 0 ? bias + (g * mg) : null, null, _act, pool);
                    }
                }
            }
        }
    }

    [ThreadStatic]
    private static float[]? t_col;

    /// <summary>Convolves chunks [start, end) of output pixels: im2col of the chunk into thread-local scratch, then the GEMM.</summary>
    private struct ChunkWork : IParallelWork
    {
        public Im2ColWork Conv;
        public int Chunk, Width, Mg;
        public float* Y, A, Bias;
        public ActivationParams Act;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(int start, int end)
        {
            int kg = Conv.Shape.WeightsPerOutputChannel, outPlane = Conv.OutH * Conv.OutW;
            Im2ColWork im2col = Conv;
            im2col.Col = AlignedScratch.Get(ref t_col, (long)kg * Chunk);
            for (int c = start; c < end; c++)
            {
                im2col.P0 = c * Chunk;
                im2col.Count = Math.Min(Chunk, outPlane - im2col.P0);
                im2col.Run(0, kg);
                Sgemm.Run(Mg, im2col.Count, kg, Width, Sgemm.Operand.Prepacked(A), Sgemm.Operand.Prepacked(im2col.Col),
                          Y + im2col.P0, outPlane, 0f, Bias, null, Act, null);
            }
        }
    }

    /// <summary>
    /// Fills rows [start, end) of the im2col matrix (row k = (c, ky, kx)) for the output pixels P0 .. P0 + Count - 1,
    /// laid out as the GEMM's packed B: panels of <see cref="Nr"/> pixels, each K x Nr (k-major), the last one zero
    /// padded. The micro-kernel reads it directly, with no second packing copy.
    /// </summary>
    private struct Im2ColWork : IParallelWork
    {
        public Conv2dShape Shape;
        public float* X, Col;
        public int InH, InW, OutH, OutW, P0, Count, Nr;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(int start, int end)
        {
            var s = Shape;
            int khw = s.KernelH * s.KernelW;
            int pEnd = P0 + Count;
            int kTotal = s.WeightsPerOutputChannel;
            long panelStride = (long)kTotal * Nr;
            for (int k = start; k < end; k++)
            {
                int c = k / khw, ky = (k % khw) / s.KernelW, kx = k % s.KernelW;
                float* src = X + ((long)c * InH * InW);
                float* dst = Col + ((long)k * Nr); // the k row of panel 0
                int offX = (kx * s.DilationW) - s.PadLeft;
                // Output columns whose input column is inside the image: 0 <= ox*sw + offX < inW.
                int oxLo = offX >= 0 ? 0 : Math.Min(OutW, (-offX + s.StrideW - 1) / s.StrideW);
                int oxHi = InW - 1 - offX < 0 ? oxLo : Math.Max(oxLo, Math.Min(OutW, ((InW - 1 - offX) / s.StrideW) + 1));
                for (int oy = P0 / OutW; oy * OutW < pEnd; oy++)
                {
                    int rowStart = oy * OutW;
                    int xa = Math.Max(0, P0 - rowStart), xb = Math.Min(OutW, pEnd - rowStart);
                    int q0 = rowStart - P0; // panel position of output column 0 of this row
                    int iy = (oy * s.StrideH) - s.PadTop + (ky * s.DilationH);
                    if ((uint)iy >= (uint)InH)
                    {
                        Zero(dst, panelStride, q0 + xa, q0 + xb);
                        continue;
                    }

                    float* row = src + ((long)iy * InW);
                    int lo = Math.Min(Math.Max(oxLo, xa), xb), hi = Math.Max(Math.Min(oxHi, xb), lo);
                    Zero(dst, panelStride, q0 + xa, q0 + lo);
                    Copy(dst, panelStride, q0 + lo, q0 + hi, row + (lo * s.StrideW) + offX, s.StrideW);
                    Zero(dst, panelStride, q0 + hi, q0 + xb);
                }

                int tail = Count % Nr;
                if (tail != 0)
                {
                    new Span<float>(dst + ((Count / Nr) * panelStride) + tail, Nr - tail).Clear();
                }
            }
        }

        // Zeroes panel positions [qa, qb) of one k row.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void Zero(float* dst, long panelStride, int qa, int qb)
        {
            while (qa < qb)
            {
                int lane = qa % Nr, n = Math.Min(Nr - lane, qb - qa);
                new Span<float>(dst + ((qa / Nr) * panelStride) + lane, n).Clear();
                qa += n;
            }
        }

        // Copies src[0], src[stride], ... into panel positions [qa, qb) of one k row.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void Copy(float* dst, long panelStride, int qa, int qb, float* src, int stride)
        {
            while (qa < qb)
            {
                int lane = qa % Nr, n = Math.Min(Nr - lane, qb - qa);
                float* d = dst + ((qa / Nr) * panelStride) + lane;
                if (stride == 1)
                {
                    new ReadOnlySpan<float>(src, n).CopyTo(new Span<float>(d, n));
                }
                else
                {
                    int i = 0;
                    if (stride == 2 && Avx2.IsSupported)
                    {
                        // Reads src[2i .. 2i + 15]; i + 8 < n keeps that within the elements this piece reads anyway.
                        for (; i + 8 < n; i += 8)
                        {
                            float* p = src + (2 * i);
                            Vector256<float> shuffled = Avx.Shuffle(Vector256.Load(p), Vector256.Load(p + 8), 0b10_00_10_00);
                            Vector256.Store(Avx2.Permute4x64(shuffled.AsDouble(), 0b11_01_10_00).AsSingle(), d + i);
                        }
                    }

                    for (; i < n; i++)
                    {
                        d[i] = src[i * stride];
                    }
                }

                qa += n;
                src += n * stride;
            }
        }
    }
}
