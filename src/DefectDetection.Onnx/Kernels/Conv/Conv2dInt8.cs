using System.Runtime.Intrinsics;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime.Threading;

namespace DefectDetection.Onnx.Kernels.Conv;

/// <summary>
/// A quantized 2-D convolution (NCHW): u8 activations x s8 weights accumulated exactly in int32,
/// acc[m] = bias32[m] + sum (x - inputZeroPoint) * (w - weightZeroPoint[m]) (padding counts as x = inputZeroPoint,
/// i.e. real zero). With a <see cref="Gemm.Requantization"/> (QLinearConv / fused QDQ) the output is u8 or s8; without,
/// the int32 accumulators are the output (ConvInteger). s8 activations: the caller adds 128 to the values and the
/// zero point. u8 weights: the caller subtracts 128 from the values and the zero points.
/// Created once per node (weights packed once); Run changes no state, so one instance serves many threads.
/// </summary>
internal sealed unsafe partial class Conv2dInt8
{
    private readonly Conv2dShape _shape;
    private readonly short[]? _packed;        // GEMM path: per group, full-K int16 panels of (w - wz)
    private readonly long _packedGroupStride;
    private readonly float[]? _depthwise;     // depthwise path: (w - wz) as float, [M, kH, kW]
    private readonly int[] _bias;
    private readonly byte _inputZeroPoint;
    private readonly Requantization? _requant;
    private readonly int _width;
    private readonly Int8KernelPaths _paths;

    /// <summary>Creates the convolution.</summary>
    /// <param name="shape">The geometry (validated).</param>
    /// <param name="weights">[M, C / group, kH, kW] s8.</param>
    /// <param name="weightZeroPoints">One zero point per output channel (M values) or one for all.</param>
    /// <param name="bias32">int32 bias per output channel (M values), or empty.</param>
    /// <param name="inputZeroPoint">The u8 input zero point.</param>
    /// <param name="requant">Output requantization (per output channel or per tensor), or null for int32 output.</param>
    /// <param name="paths">The fast paths this convolution may take (tests and benchmarks pass fewer to reach the ones beneath).</param>
    /// <param name="vectorBits">The widest vector to use (see <see cref="KernelOptions.Resolve"/>); null for the widest available.</param>
    public Conv2dInt8(in Conv2dShape shape, ReadOnlySpan<sbyte> weights, ReadOnlySpan<int> weightZeroPoints,
                      ReadOnlySpan<int> bias32, byte inputZeroPoint, Requantization? requant, Int8KernelPaths paths = Int8KernelPaths.All,
                      int? vectorBits = null)
    {
        shape.Validate();
        if (weights.Length != (long)shape.OutChannels * shape.WeightsPerOutputChannel)
        {
            throw new ArgumentException("The weights must hold M x C/group x kH x kW values.", nameof(weights));
        }

        if (weightZeroPoints.Length != 1 && weightZeroPoints.Length != shape.OutChannels)
        {
            throw new ArgumentException("The weight zero points must have 1 or M values.", nameof(weightZeroPoints));
        }

        if (!bias32.IsEmpty && bias32.Length != shape.OutChannels)
        {
            throw new ArgumentException("The bias must hold M values.", nameof(bias32));
        }

        if (requant is not null && !requant.IsPerTensor && requant.Scale.Length != shape.OutChannels)
        {
            throw new ArgumentException("The requantization needs 1 or M scales.", nameof(requant));
        }

        _shape = shape;
        _bias = bias32.ToArray();
        _inputZeroPoint = inputZeroPoint;
        _requant = requant;
        _paths = paths;
        _width = QGemm.IntWidth(KernelOptions.Resolve(vectorBits));
        int kg = shape.WeightsPerOutputChannel, mg = shape.OutChannelsPerGroup;
        var zeros = new int[shape.OutChannels];
        for (int m = 0; m < zeros.Length; m++)
        {
            zeros[m] = weightZeroPoints.Length == 1 ? weightZeroPoints[0] : weightZeroPoints[m];
        }

        if (UsesDepthwiseKernel(shape))
        {
            _depthwise = new float[weights.Length];
            for (int i = 0; i < weights.Length; i++)
            {
                _depthwise[i] = weights[i] - zeros[i / kg];
            }
        }
        else
        {
            (int mr, _) = QGemm.TileOf(_width);
            _packedGroupStride = (long)((mg + mr - 1) / mr) * mr * ((kg + 1) / 2) * 2;
            _packed = new short[Math.Max(1, _packedGroupStride * shape.Group)];
            fixed (sbyte* w = weights)
            fixed (int* z = zeros)
            {
                for (int g = 0; g < shape.Group; g++)
                {
                    short[] panels = QGemm.PackWholeA(QGemm.Operand.S8(w + ((long)g * mg * kg), kg, 0, z + (g * mg)), mg, kg, _width);
                    Array.Copy(panels, 0, _packed, g * _packedGroupStride, _packedGroupStride);
                }
            }
        }
    }

    /// <summary>The geometry.</summary>
    public Conv2dShape Shape => _shape;

    /// <summary>The requantization, or null when the output is int32.</summary>
    public Requantization? Requantization => _requant;

    private bool UsesIm2Col => !UsesDepthwiseKernel(_shape) && !_shape.IsPointwise;

    // The float depthwise kernel is exact while every partial sum stays below 2^24: taps * 255 * 255 < 2^24.
    private static bool UsesDepthwiseKernel(in Conv2dShape s) => s.IsDepthwise && s.KernelH * s.KernelW <= 256;

    // Small planes (late layers: 14 x 14, 7 x 7) waste most of the last 32-column tile and reuse the packed weights
    // little: a batch of them is convolved as one GEMM over [C, batch x plane] (gathered), then scattered back.
    // (Quantized output only; the scratch size does not depend on the output type.)
    private bool UsesBatchPacking(int batch, long plane)
        => (_paths & Int8KernelPaths.BatchPacking) != 0 && batch > 1 && _shape.IsPointwise && _shape.Group == 1 && plane < 512
           && (long)(_shape.InChannels + _shape.OutChannels) * batch * plane <= int.MaxValue / 2;

    /// <summary>The number of scratch bytes a call needs for this input size (0 if none).</summary>
    public long ScratchBytes(int batch, int inH, int inW)
    {
        if (UsesBatchPacking(batch, (long)inH * inW))
        {
            return (long)(_shape.InChannels + _shape.OutChannels) * batch * inH * inW;
        }

        if (UsesIm2Col)
        {
            int outH = _shape.OutputHeight(inH), outW = _shape.OutputWidth(inW);
            return outH <= 0 || outW <= 0 || UsesChunks(_shape, (long)outH * outW) ? 0 : (long)_shape.WeightsPerOutputChannel * outH * outW;
        }

        return 0;
    }

    // The most output pixels per im2col chunk (1024: a 112 x 112 stem output is 13 tasks, balanced on 2 threads).
    private const int MaxChunkPixels = 1024;

    // Large outputs are convolved in pixel chunks (one task each, thread-local L2-sized im2col block), as in Conv2dFloat.
    private static int ChunkPixels(in Conv2dShape s) => Math.Min(MaxChunkPixels, Conv2dFloat.ChunkPixels(s, sizeof(short)));

    private static bool UsesChunks(in Conv2dShape s, long outPlane) => outPlane > 2L * ChunkPixels(s);

    /// <summary>
    /// Quantized output (requires a <see cref="Gemm.Requantization"/>): output[N, M, outH, outW] u8, or s8 stored as
    /// two's-complement bytes. <paramref name="scratch"/> holds at least <see cref="ScratchBytes"/> bytes.
    /// </summary>
    public void Run(ReadOnlySpan<byte> input, int batch, int inH, int inW, Span<byte> output,
                    Span<byte> scratch, IntraOpThreadPool? pool)
    {
        if (_requant is null)
        {
            throw new InvalidOperationException("This convolution has no requantization; use the int32 overload.");
        }

        (int outH, int outW) = _shape.CheckRun(input.Length, batch, inH, inW, output.Length);
        CheckScratch(scratch.Length, batch, inH, inW);
        fixed (byte* x = input)
        fixed (byte* y = output)
        fixed (byte* col = scratch)
        {
            RunCore(x, batch, inH, inW, outH, outW, y, null, col, pool);
        }
    }

    /// <summary>int32 output (ConvInteger, bias included when given): output[N, M, outH, outW].</summary>
    public void Run(ReadOnlySpan<byte> input, int batch, int inH, int inW, Span<int> output,
                    Span<byte> scratch, IntraOpThreadPool? pool)
    {
        (int outH, int outW) = _shape.CheckRun(input.Length, batch, inH, inW, output.Length);
        CheckScratch(scratch.Length, batch, inH, inW);
        fixed (byte* x = input)
        fixed (int* y = output)
        fixed (byte* col = scratch)
        {
            RunCore(x, batch, inH, inW, outH, outW, null, y, col, pool);
        }
    }

    private void CheckScratch(int length, int batch, int inH, int inW)
    {
        if (length < ScratchBytes(batch, inH, inW))
        {
            throw new ArgumentException("The scratch buffer is too small.", "scratch");
        }
    }

    private void RunCore(byte* x, int batch, int inH, int inW, int outH, int outW, byte* yq, int* y32, byte* col, IntraOpThreadPool? pool)
    {
        if (batch == 0)
        {
            return;
        }

        var s = _shape;
        fixed (int* bias = _bias)
        fixed (float* scales = _requant is null ? null : _requant.Scale)
        {
            if (_depthwise is not null)
            {
                RunDepthwise(x, batch, inH, inW, outH, outW, yq, y32, _bias.Length > 0 ? bias : null, scales, pool);
                return;
            }

            int cg = s.InChannelsPerGroup, mg = s.OutChannelsPerGroup, kg = s.WeightsPerOutputChannel;
            int inPlane = inH * inW, outPlane = outH * outW;
            fixed (short* packed = _packed)
            {
                if (yq != null && UsesBatchPacking(batch, outPlane))
                {
                    RunBatchPacked(x, batch, outPlane, yq, col, _bias.Length > 0 ? bias : null, scales, packed, pool);
                    return;
                }

                for (int b = 0; b < batch; b++)
                {
                    for (int g = 0; g < s.Group; g++)
                    {
                        byte* xg = x + ((((long)b * s.InChannels) + (g * cg)) * inPlane);
                        long yOffset = (((long)b * s.OutChannels) + (g * mg)) * outPlane;
                        var output = new QGemm.Output { BiasRow = _bias.Length > 0 ? bias + (g * mg) : null };
                        if (y32 != null)
                        {
                            output.C32 = y32 + yOffset;
                            output.Ldc32 = outPlane;
                        }
                        else
                        {
                            output.Cq = yq + yOffset;
                            output.Ldcq = outPlane;
                            output.ScalePerRow = !_requant!.IsPerTensor;
                            output.Scales = _requant.IsPerTensor ? scales : scales + (g * mg);
                            output.ZeroPoint = _requant.OutputZeroPoint;
                            output.Min = _requant.Min;
                            output.Max = _requant.Max;
                        }

                        QGemm.Operand bOperand;
                        if (s.IsPointwise)
                        {
                            bOperand = QGemm.Operand.U8(xg, inPlane, _inputZeroPoint);
                        }
                        else if (UsesChunks(s, outPlane))
                        {
                            var chunks = new ChunkWork
                            {
                                Conv = new Im2ColWork { Shape = s, X = xg, InH = inH, InW = inW, OutH = outH, OutW = outW, Zero = _inputZeroPoint },
                                Chunk = ChunkPixels(s), A = packed + (g * _packedGroupStride), Output = output, Width = _width, Mg = mg, Paths = _paths,
                            };
                            IntraOpThreadPool.For(pool, (outPlane + chunks.Chunk - 1) / chunks.Chunk, ref chunks);
                            continue;
                        }
                        else
                        {
                            var im2col = new Im2ColWork
                            {
                                Shape = s, X = xg, InH = inH, InW = inW, OutH = outH, OutW = outW, Col = col, Zero = _inputZeroPoint, Count = outPlane,
                            };
                            IntraOpThreadPool.For((long)outPlane * kg > 65536 ? pool : null, kg, ref im2col);
                            bOperand = QGemm.Operand.U8(col, outPlane, _inputZeroPoint);
                        }

                        QGemm.Run(mg, outPlane, kg, _width, QGemm.Operand.Prepacked(packed + (g * _packedGroupStride)), bOperand, output, pool, _paths);
                    }
                }
            }
        }
    }

    // Pointwise over a batch: x [batch, C, plane] -> [C, batch x plane], one GEMM into [M, batch x plane], then back
    // to y [batch, M, plane]. The scratch holds both gathered matrices.
    private void RunBatchPacked(byte* x, int batch, int plane, byte* y, byte* scratch, int* bias, float* scales, short* packed, IntraOpThreadPool? pool)
    {
        int c = _shape.InChannels, m = _shape.OutChannels, n = batch * plane;
        byte* xs = scratch, ys = scratch + ((long)c * n);
        var gather = new PlaneGather { Src = x, Dst = xs, Plane = plane, Batch = batch, Channels = c, ToBatchMajor = false };
        IntraOpThreadPool.For((long)c * n > 65536 ? pool : null, c, ref gather);
        var output = new QGemm.Output
        {
            Cq = ys, Ldcq = n, BiasRow = bias, ScalePerRow = !_requant!.IsPerTensor, Scales = scales,
            ZeroPoint = _requant.OutputZeroPoint, Min = _requant.Min, Max = _requant.Max,
        };
        QGemm.Run(m, n, c, _width, QGemm.Operand.Prepacked(packed), QGemm.Operand.U8(xs, n, _inputZeroPoint), output, pool, _paths);
        var scatter = new PlaneGather { Src = ys, Dst = y, Plane = plane, Batch = batch, Channels = m, ToBatchMajor = true };
        IntraOpThreadPool.For((long)m * n > 65536 ? pool : null, m, ref scatter);
    }

    /// <summary>
    /// Copies channels [start, end) between [batch, channels, plane] (batch major) and [channels, batch x plane].
    /// </summary>
    private struct PlaneGather : IParallelWork
    {
        public byte* Src, Dst;
        public int Plane, Batch, Channels;
        public bool ToBatchMajor;

        public readonly void Run(int start, int end)
        {
            long batchStride = (long)Channels * Plane, rowLength = (long)Batch * Plane;
            for (int ch = start; ch < end; ch++)
            {
                for (int b = 0; b < Batch; b++)
                {
                    byte* major = (ToBatchMajor ? Dst : Src) + (b * batchStride) + ((long)ch * Plane);
                    byte* rows = (ToBatchMajor ? Src : Dst) + (ch * rowLength) + ((long)b * Plane);
                    Buffer.MemoryCopy(ToBatchMajor ? rows : major, ToBatchMajor ? major : rows, Plane, Plane);
                }
            }
        }
    }

    [ThreadStatic]
    private static byte[]? t_col;

    /// <summary>Convolves chunks [start, end) of output pixels: im2col of the chunk into thread-local scratch, then the GEMM.</summary>
    private struct ChunkWork : IParallelWork
    {
        public Im2ColWork Conv;
        public int Chunk, Width, Mg;
        public short* A;
        public QGemm.Output Output;
        public Int8KernelPaths Paths;

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
                QGemm.Output output = Output;
                if (output.C32 != null)
                {
                    output.C32 += im2col.P0;
                }
                else
                {
                    output.Cq += im2col.P0;
                }

                QGemm.Run(Mg, im2col.Count, kg, Width, QGemm.Operand.Prepacked(A), QGemm.Operand.U8(im2col.Col, im2col.Count, Conv.Zero), output, null, Paths);
            }
        }
    }

    /// <summary>
    /// Fills rows [start, end) of the u8 im2col matrix (row stride Count) for output pixels P0 .. P0 + Count - 1;
    /// padding is the input zero point.
    /// </summary>
    private struct Im2ColWork : IParallelWork
    {
        public Conv2dShape Shape;
        public byte* X, Col;
        public int InH, InW, OutH, OutW, P0, Count;
        public byte Zero;

        public readonly void Run(int start, int end)
        {
            var s = Shape;
            int khw = s.KernelH * s.KernelW;
            int pEnd = P0 + Count;
            for (int k = start; k < end; k++)
            {
                int c = k / khw, ky = (k % khw) / s.KernelW, kx = k % s.KernelW;
                byte* src = X + ((long)c * InH * InW);
                byte* dst = Col + ((long)k * Count) - P0; // dst[p] for output pixel p
                int offX = (kx * s.DilationW) - s.PadLeft;
                int oxLo = offX >= 0 ? 0 : Math.Min(OutW, (-offX + s.StrideW - 1) / s.StrideW);
                int oxHi = InW - 1 - offX < 0 ? oxLo : Math.Max(oxLo, Math.Min(OutW, ((InW - 1 - offX) / s.StrideW) + 1));
                for (int oy = P0 / OutW; oy * OutW < pEnd; oy++)
                {
                    int rowStart = oy * OutW;
                    int xa = Math.Max(0, P0 - rowStart), xb = Math.Min(OutW, pEnd - rowStart);
                    byte* d = dst + rowStart;
                    int iy = (oy * s.StrideH) - s.PadTop + (ky * s.DilationH);
                    if ((uint)iy >= (uint)InH)
                    {
                        new Span<byte>(d + xa, xb - xa).Fill(Zero);
                        continue;
                    }

                    byte* row = src + ((long)iy * InW);
                    int lo = Math.Min(Math.Max(oxLo, xa), xb), hi = Math.Max(Math.Min(oxHi, xb), lo);
                    new Span<byte>(d + xa, lo - xa).Fill(Zero);
                    if (s.StrideW == 1)
                    {
                        new ReadOnlySpan<byte>(row + lo + offX, hi - lo).CopyTo(new Span<byte>(d + lo, hi - lo));
                    }
                    else
                    {
                        int ox = lo;
                        if (s.StrideW == 2 && Vector128.IsHardwareAccelerated)
                        {
                            // Even bytes of 32: the low byte of each 16-bit lane.
                            for (; ox + 16 <= hi && (2 * ox) + offX + 31 < InW; ox += 16)
                            {
                                byte* p = row + (2 * ox) + offX;
                                Vector128.Store(Vector128.Narrow(Vector128.Load((ushort*)p), Vector128.Load((ushort*)(p + 16))), d + ox);
                            }
                        }

                        for (; ox < hi; ox++)
                        {
                            d[ox] = row[(ox * s.StrideW) + offX];
                        }
                    }

                    new Span<byte>(d + hi, xb - hi).Fill(Zero);
                }
            }
        }
    }
}
