using System.Numerics.Tensors;
using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Kernels.Nn;

/// <summary>MaxPool and AveragePool over 1-D or 2-D windows (pads, auto_pad, ceil_mode, dilations, count_include_pad).</summary>
internal sealed class PoolKernel : OpKernel
{
    private readonly WindowAttributes _win;
    private readonly bool _max;
    private readonly bool _countIncludePad;

    public PoolKernel(GraphNode node)
        : base(node)
    {
        _max = node.OpType == "MaxPool";
        long[]? ks = node.GetInts("kernel_shape") ?? throw new UnsupportedNodeException("kernel_shape is required");
        _win = new WindowAttributes(node, ks.Length, null);
        _countIncludePad = node.GetInt("count_include_pad", 0) != 0;
        if (_max && node.Outputs.Count > 1 && node.Outputs[1].Length > 0)
        {
            throw new UnsupportedNodeException("the Indices output of MaxPool is not supported");
        }

        if (node.GetInt("storage_order", 0) != 0)
        {
            throw new UnsupportedNodeException("storage_order = 1 is not supported");
        }
    }

    /// <summary>Max pooling without dilation as a row pass then a column pass (no per-window calls).</summary>
    private static void MaxSeparable(ReadOnlySpan<float> src, Span<float> dst, int planes, int inH, int inW, int outH, int outW, int kH, int kW, int sH, int sW, int pt, int pl, Span<float> rows)
    {
        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<float> plane = src.Slice(p * inH * inW, inH * inW);
            for (int iy = 0; iy < inH; iy++)
            {
                ReadOnlySpan<float> row = plane.Slice(iy * inW, inW);
                Span<float> r = rows.Slice(iy * outW, outW);
                for (int ox = 0; ox < outW; ox++)
                {
                    int x0 = Math.Max((ox * sW) - pl, 0), x1 = Math.Min((ox * sW) - pl + kW, inW);
                    float m = float.NegativeInfinity;
                    for (int ix = x0; ix < x1; ix++)
                    {
                        m = MathF.Max(m, row[ix]);
                    }

                    r[ox] = m;
                }
            }

            Span<float> o = dst.Slice(p * outH * outW, outH * outW);
            for (int oy = 0; oy < outH; oy++)
            {
                int y0 = Math.Max((oy * sH) - pt, 0), y1 = Math.Min((oy * sH) - pt + kH, inH);
                Span<float> orow = o.Slice(oy * outW, outW);
                orow.Fill(float.NegativeInfinity);
                for (int iy = y0; iy < y1; iy++)
                {
                    TensorPrimitives.Max(orow, rows.Slice(iy * outW, outW), orow);
                }
            }
        }
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        if (x.Rank != _win.SpatialRank + 2 || x.Type != TensorElementType.Float32)
        {
            throw Error($"Expected a float tensor of rank {_win.SpatialRank + 2}.");
        }

        bool twoD = _win.SpatialRank == 2;
        int n = x.Shape[0], c = x.Shape[1];
        int inH = twoD ? x.Shape[2] : 1, inW = x.Shape[^1];
        int kH = twoD ? _win.Kernel[0] : 1, kW = _win.Kernel[^1];
        int sH = twoD ? _win.Strides[0] : 1, sW = _win.Strides[^1];
        int dH = twoD ? _win.Dilations[0] : 1, dW = _win.Dilations[^1];
        (int pt, int pb) = twoD ? _win.ResolvePads(0, inH) : (0, 0);
        (int pl, int pr) = _win.ResolvePads(_win.SpatialRank - 1, inW);
        int outH = twoD ? _win.PoolOutputSize(0, inH, pt, pb) : 1;
        int outW = _win.PoolOutputSize(_win.SpatialRank - 1, inW, pl, pr);
        Span<int> shape = stackalloc int[x.Rank];
        shape[0] = n;
        shape[1] = c;
        if (twoD)
        {
            shape[2] = outH;
        }

        shape[^1] = outW;
        TensorValue y = ctx.Output(0, TensorElementType.Float32, shape);
        ReadOnlySpan<float> src = x.Span<float>();
        Span<float> dst = y.Span<float>();
        int planeIn = inH * inW, planeOut = outH * outW;
        if (_max && dH == 1 && dW == 1)
        {
            MaxSeparable(src, dst, n * c, inH, inW, outH, outW, kH, kW, sH, sW, pt, pl, ctx.Scratch<float>(inH * outW));
            return;
        }

        for (int p = 0; p < n * c; p++)
        {
            ReadOnlySpan<float> plane = src.Slice(p * planeIn, planeIn);
            Span<float> o = dst.Slice(p * planeOut, planeOut);
            for (int oy = 0; oy < outH; oy++)
            {
                int hs = (oy * sH) - pt;
                for (int ox = 0; ox < outW; ox++)
                {
                    int ws = (ox * sW) - pl;
                    if (_max)
                    {
                        float m = float.NegativeInfinity;
                        for (int ky = 0; ky < kH; ky++)
                        {
                            int iy = hs + (ky * dH);
                            if ((uint)iy >= (uint)inH)
                            {
                                continue;
                            }

                            ReadOnlySpan<float> row = plane.Slice(iy * inW, inW);
                            if (dW == 1)
                            {
                                int x0 = Math.Max(ws, 0), x1 = Math.Min(ws + kW, inW);
                                if (x1 > x0)
                                {
                                    m = MathF.Max(m, TensorPrimitives.Max(row[x0..x1]));
                                }
                            }
                            else
                            {
                                for (int kx = 0; kx < kW; kx++)
                                {
                                    int ix = ws + (kx * dW);
                                    if ((uint)ix < (uint)inW)
                                    {
                                        m = MathF.Max(m, row[ix]);
                                    }
                                }
                            }
                        }

                        o[(oy * outW) + ox] = m;
                    }
                    else
                    {
                        int he = Math.Min(hs + kH, inH + pb), we = Math.Min(ws + kW, inW + pr);
                        int count = (he - hs) * (we - ws);
                        int h0 = Math.Max(hs, 0), h1 = Math.Min(he, inH), w0 = Math.Max(ws, 0), w1 = Math.Min(we, inW);
                        float sum = 0;
                        for (int iy = h0; iy < h1; iy++)
                        {
                            if (w1 > w0)
                            {
                                sum += TensorPrimitives.Sum(plane.Slice((iy * inW) + w0, w1 - w0));
                            }
                        }

                        if (!_countIncludePad)
                        {
                            count = (h1 - h0) * (w1 - w0);
                        }

                        o[(oy * outW) + ox] = count > 0 ? sum / count : 0f;
                    }
                }
            }
        }
    }
}

/// <summary>GlobalAveragePool and GlobalMaxPool (any spatial rank).</summary>
internal sealed class GlobalPoolKernel(GraphNode node) : OpKernel(node)
{
    private readonly bool _max = node.OpType == "GlobalMaxPool";

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        if (x.Rank < 2 || x.Type != TensorElementType.Float32)
        {
            throw Error("Expected a float tensor of rank 2 or more.");
        }

        Span<int> shape = stackalloc int[x.Rank];
        shape.Fill(1);
        shape[0] = x.Shape[0];
        shape[1] = x.Shape[1];
        TensorValue y = ctx.Output(0, TensorElementType.Float32, shape);
        int nc = x.Shape[0] * x.Shape[1];
        int plane = nc == 0 ? 0 : x.Length / nc;
        ReadOnlySpan<float> src = x.Span<float>();
        Span<float> dst = y.Span<float>();
        for (int i = 0; i < nc; i++)
        {
            ReadOnlySpan<float> p = src.Slice(i * plane, plane);
            dst[i] = _max ? TensorPrimitives.Max(p) : TensorPrimitives.Sum(p) / plane;
        }
    }
}
