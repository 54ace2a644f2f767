using System.Runtime.InteropServices;
using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Kernels.Nn;

/// <summary>
/// Resize (opsets 10 to 19) and Upsample (7 to 9): nearest (round_prefer_floor, round_prefer_ceil, floor, ceil) on any
/// axes, linear on the last two axes, with every coordinate_transformation_mode (half_pixel, half_pixel_symmetric,
/// pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn, tf_crop_and_resize); cubic (cubic_coeff_a,
/// exclude_outside) on the last two axes.
/// </summary>
internal sealed class ResizeKernel : OpKernel
{
    private readonly bool _linear;
    private readonly bool _cubic;
    private readonly float _cubicA;
    private readonly bool _excludeOutside;
    private readonly string _coord;
    private readonly string _nearestMode;
    private readonly float _extrapolation;
    private readonly bool _upsample;
    private readonly float[]? _attrScales;
    private readonly long[]? _axes;
    private readonly string _aspect;

    public ResizeKernel(GraphNode node)
        : base(node)
    {
        _upsample = node.OpType == "Upsample";
        string mode = node.GetString("mode", "nearest");
        if (mode is "bilinear")
        {
            mode = "linear";
        }

        if (mode is not ("nearest" or "linear" or "cubic"))
        {
            throw new UnsupportedNodeException($"mode '{mode}' is not supported (nearest, linear and cubic are)");
        }

        _linear = mode == "linear";
        _cubic = mode == "cubic";
        _cubicA = node.GetFloat("cubic_coeff_a", -0.75f);
        _excludeOutside = node.GetInt("exclude_outside", 0) != 0;
        bool legacy = _upsample || node.Opset < 11;
        _coord = legacy ? "asymmetric" : node.GetString("coordinate_transformation_mode", "half_pixel");
        _nearestMode = legacy ? "legacy" : node.GetString("nearest_mode", "round_prefer_floor");
        _extrapolation = node.GetFloat("extrapolation_value", 0f);
        _attrScales = node.GetFloats("scales");
        _axes = node.GetInts("axes");
        _aspect = node.GetString("keep_aspect_ratio_policy", "stretch");
        if (_coord is not ("half_pixel" or "half_pixel_symmetric" or "pytorch_half_pixel" or "align_corners" or "asymmetric" or "tf_half_pixel_for_nn" or "tf_crop_and_resize"))
        {
            throw new UnsupportedNodeException($"coordinate_transformation_mode '{_coord}' is not supported");
        }

        if (_nearestMode is not ("legacy" or "round_prefer_floor" or "round_prefer_ceil" or "floor" or "ceil"))
        {
            throw new UnsupportedNodeException($"nearest_mode '{_nearestMode}' is not supported");
        }

        if (node.GetInt("antialias", 0) != 0)
        {
            throw new UnsupportedNodeException("antialias is not supported");
        }

        if (_upsample && _cubic)
        {
            throw new UnsupportedNodeException("Upsample supports nearest and linear");
        }

        if (_aspect is not ("stretch" or "not_larger" or "not_smaller"))
        {
            throw new UnsupportedNodeException($"keep_aspect_ratio_policy '{_aspect}' is not supported");
        }
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        int r = x.Rank;
        Span<float> scales = stackalloc float[Math.Max(r, 1)];
        Span<int> shape = stackalloc int[Math.Max(r, 1)];
        Span<float> roi = stackalloc float[2 * Math.Max(r, 1)];
        for (int d = 0; d < r; d++)
        {
            scales[d] = 1f;
            shape[d] = x.Shape[d];
            roi[d] = 0;
            roi[d + r] = 1;
        }

        TensorValue? scalesV, sizesV = null, roiV = null;
        if (_upsample)
        {
            scalesV = Node.Opset >= 9 ? ctx.Input(1) : null;
        }
        else if (Node.Opset < 11)
        {
            scalesV = ctx.Input(1);
        }
        else
        {
            roiV = ctx.OptionalInput(1);
            scalesV = ctx.OptionalInput(2);
            sizesV = ctx.OptionalInput(3);
            if (scalesV is not null && scalesV.Length == 0)
            {
                scalesV = null;
            }
        }

        int na = _axes?.Length ?? r;
        Span<int> axes = stackalloc int[Math.Max(na, 1)];
        for (int i = 0; i < na; i++)
        {
            axes[i] = _axes is null ? i : Layout.ShapeHelpers.NormalizeAxis(_axes[i], r);
        }

        if (sizesV is not null && sizesV.Length > 0)
        {
            if (sizesV.Length != na)
            {
                throw Error($"sizes has {sizesV.Length} entries, expected {na}.");
            }

            if (_aspect == "stretch")
            {
                for (int i = 0; i < na; i++)
                {
                    shape[axes[i]] = Layout.ShapeHelpers.Dimension(sizesV.GetInt64(i), $"sizes[{i}]");
                    scales[axes[i]] = (float)shape[axes[i]] / x.Shape[axes[i]];
                }
            }
            else
            {
                float s = _aspect == "not_larger" ? float.MaxValue : float.MinValue;
                for (int i = 0; i < na; i++)
                {
                    float si = (float)sizesV.GetInt64(i) / x.Shape[axes[i]];
                    s = _aspect == "not_larger" ? MathF.Min(s, si) : MathF.Max(s, si);
                }

                for (int i = 0; i < na; i++)
                {
                    scales[axes[i]] = s;
                    shape[axes[i]] = (int)MathF.Round(s * x.Shape[axes[i]], MidpointRounding.ToEven);
                }
            }
        }
        else
        {
            int count = scalesV?.Length ?? _attrScales?.Length ?? 0;
            if (count != na)
            {
                throw Error($"scales has {count} entries, expected {na}.");
            }

            for (int i = 0; i < na; i++)
            {
                float s = scalesV?.GetFloat(i) ?? _attrScales![i];
                if (s <= 0)
                {
                    throw Error($"Scale {s} must be positive.");
                }

                scales[axes[i]] = s;
                shape[axes[i]] = (int)MathF.Floor(x.Shape[axes[i]] * s);
            }
        }

        if (roiV is not null && roiV.Length == 2 * na && _coord == "tf_crop_and_resize")
        {
            for (int i = 0; i < na; i++)
            {
                roi[axes[i]] = roiV.GetFloat(i);
                roi[axes[i] + r] = roiV.GetFloat(i + na);
            }
        }

        TensorValue y = ctx.Output(0, x.Type, shape[..r]);
        if (y.Length == 0)
        {
            return;
        }

        if (_linear)
        {
            Linear(ctx, x, y, scales, roi);
        }
        else if (_cubic)
        {
            Cubic(ctx, x, y, scales, roi);
        }
        else
        {
            Nearest(ctx, x, y, scales, roi);
        }
    }

    private float Original(int o, int inLen, int outLen, float scale, float roiStart, float roiEnd)
    {
        switch (_coord)
        {
            case "half_pixel": return ((o + 0.5f) / scale) - 0.5f;
            case "half_pixel_symmetric":
                {
                    float adjustment = outLen / (scale * inLen);
                    float center = inLen / 2f;
                    float offset = center * (1 - adjustment);
                    return offset + ((o + 0.5f) / scale) - 0.5f;
                }

            case "pytorch_half_pixel": return outLen > 1 ? ((o + 0.5f) / scale) - 0.5f : 0f;
            case "align_corners": return outLen == 1 ? 0f : o * (inLen - 1) / (float)(outLen - 1);
            case "tf_half_pixel_for_nn": return (o + 0.5f) / scale;
            case "tf_crop_and_resize":
                return outLen > 1
                    ? (roiStart * (inLen - 1)) + (o * (roiEnd - roiStart) * (inLen - 1) / (outLen - 1))
                    : 0.5f * (roiStart + roiEnd) * (inLen - 1);
            default: return o / scale;
        }
    }

    private int NearestIndex(float v, float scale, int inLen)
    {
        int i = _nearestMode switch
        {
            "round_prefer_ceil" => (int)MathF.Floor(v + 0.5f),
            "floor" => (int)MathF.Floor(v),
            "ceil" => (int)MathF.Ceiling(v),
            "legacy" => scale < 1 ? (int)MathF.Ceiling(v) : (int)v,
            _ => v - MathF.Floor(v) == 0.5f ? (int)MathF.Floor(v) : (int)MathF.Round(v, MidpointRounding.AwayFromZero),
        };
        return Math.Clamp(i, 0, inLen - 1);
    }

    private void Nearest(KernelContext ctx, TensorValue x, TensorValue y, ReadOnlySpan<float> scales, ReadOnlySpan<float> roi)
    {
        int r = x.Rank;
        int total = 0;
        for (int d = 0; d < r; d++)
        {
            total += y.Shape[d];
        }

        Span<int> map = ctx.Scratch<int>(total);
        Span<int> inStrides = stackalloc int[r];
        Layout.StridedCopy.ContiguousStrides(x.Dims, inStrides);
        int pos = 0;
        bool crop = _coord == "tf_crop_and_resize";
        for (int d = 0; d < r; d++)
        {
            int inLen = x.Shape[d], outLen = y.Shape[d];
            for (int o = 0; o < outLen; o++)
            {
                if (scales[d] == 1f && inLen == outLen && !crop)
                {
                    map[pos + o] = o * inStrides[d];
                    continue;
                }

                float v = Original(o, inLen, outLen, scales[d], roi[d], roi[d + r]);
                map[pos + o] = crop && (v < 0 || v > inLen - 1) ? -1 : NearestIndex(v, scales[d], inLen) * inStrides[d];
            }

            pos += outLen;
        }

        int es = OnnxTensor.ElementSize(x.Type);
        if (es == 4)
        {
            Gather(MemoryMarshal.Cast<byte, int>(x.Bytes()), MemoryMarshal.Cast<byte, int>(y.Bytes()), y.Dims, map, BitConverter.SingleToInt32Bits(_extrapolation));
        }
        else if (es == 1)
        {
            Gather(x.Bytes(), y.Bytes(), y.Dims, map, (byte)0);
        }
        else if (es == 8)
        {
            Gather(MemoryMarshal.Cast<byte, long>(x.Bytes()), MemoryMarshal.Cast<byte, long>(y.Bytes()), y.Dims, map, 0L);
        }
        else
        {
            Gather(MemoryMarshal.Cast<byte, short>(x.Bytes()), MemoryMarshal.Cast<byte, short>(y.Bytes()), y.Dims, map, (short)0);
        }
    }

    private static void Gather<T>(ReadOnlySpan<T> src, Span<T> dst, ReadOnlySpan<int> outShape, ReadOnlySpan<int> map, T fill)
        where T : unmanaged
    {
        int r = outShape.Length;
        int inner = outShape[r - 1];
        ReadOnlySpan<int> innerMap = map[^inner..];
        int outer = dst.Length / inner;
        Span<int> counter = stackalloc int[r];
        counter.Clear();
        Span<int> starts = stackalloc int[r];
        int s = 0;
        for (int d = 0; d < r; d++)
        {
            starts[d] = s;
            s += outShape[d];
        }

        for (int row = 0; row < outer; row++)
        {
            int off = 0;
            bool outside = false;
            for (int d = 0; d < r - 1; d++)
            {
                int m = map[starts[d] + counter[d]];
                outside |= m < 0;
                off += m;
            }

            Span<T> o = dst.Slice(row * inner, inner);
            if (outside)
            {
                o.Fill(fill);
            }
            else
            {
                for (int i = 0; i < inner; i++)
                {
                    int m = innerMap[i];
                    o[i] = m < 0 ? fill : src[off + m];
                }
            }

            for (int d = r - 2; d >= 0; d--)
            {
                if (++counter[d] < outShape[d])
                {
                    break;
                }

                counter[d] = 0;
            }
        }
    }

    private void Linear(KernelContext ctx, TensorValue x, TensorValue y, ReadOnlySpan<float> scales, ReadOnlySpan<float> roi)
    {
        int r = x.Rank;
        if (x.Type != TensorElementType.Float32)
        {
            throw Error("Linear resize supports float32.");
        }

        for (int d = 0; d < r - 2; d++)
        {
            if (x.Shape[d] != y.Shape[d])
            {
                throw Error("Linear resize is supported on the last two axes only.");
            }
        }

        int inH = r >= 2 ? x.Shape[r - 2] : 1, inW = x.Shape[r - 1];
        int outH = r >= 2 ? y.Shape[r - 2] : 1, outW = y.Shape[r - 1];
        float sH = r >= 2 ? scales[r - 2] : 1f, sW = scales[r - 1];
        Span<int> scratch = ctx.Scratch<int>(3 * (outH + outW));
        Span<int> y0 = scratch[..outH], y1 = scratch.Slice(outH, outH);
        Span<float> wy = MemoryMarshal.Cast<int, float>(scratch.Slice(2 * outH, outH));
        Span<int> x0 = scratch.Slice(3 * outH, outW), x1 = scratch.Slice((3 * outH) + outW, outW);
        Span<float> wx = MemoryMarshal.Cast<int, float>(scratch.Slice((3 * outH) + (2 * outW), outW));
        bool crop = _coord == "tf_crop_and_resize";
        Axis(outH, inH, sH, r >= 2 ? roi[r - 2] : 0, r >= 2 ? roi[(2 * r) - 2] : 1, y0, y1, wy);
        Axis(outW, inW, sW, roi[r - 1], roi[(2 * r) - 1], x0, x1, wx);
        ReadOnlySpan<float> src = x.Span<float>();
        Span<float> dst = y.Span<float>();
        int planes = x.Length / (inH * inW);
        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<float> plane = src.Slice(p * inH * inW, inH * inW);
            Span<float> o = dst.Slice(p * outH * outW, outH * outW);
            for (int oy = 0; oy < outH; oy++)
            {
                ReadOnlySpan<float> r0 = plane.Slice(Math.Max(y0[oy], 0) * inW, inW);
                ReadOnlySpan<float> r1 = plane.Slice(Math.Max(y1[oy], 0) * inW, inW);
                float fy = wy[oy];
                for (int ox = 0; ox < outW; ox++)
                {
                    if (crop && (y0[oy] < 0 || x0[ox] < 0))
                    {
                        o[(oy * outW) + ox] = _extrapolation;
                        continue;
                    }

                    float fx = wx[ox];
                    float top = r0[x0[ox]] + ((r0[x1[ox]] - r0[x0[ox]]) * fx);
                    float bot = r1[x0[ox]] + ((r1[x1[ox]] - r1[x0[ox]]) * fx);
                    o[(oy * outW) + ox] = top + ((bot - top) * fy);
                }
            }
        }
    }

    private void Axis(int outLen, int inLen, float scale, float roiStart, float roiEnd, Span<int> i0, Span<int> i1, Span<float> w)
    {
        bool crop = _coord == "tf_crop_and_resize";
        for (int o = 0; o < outLen; o++)
        {
            float v = inLen == outLen && scale == 1f && !crop ? o : Original(o, inLen, outLen, scale, roiStart, roiEnd);
            if (crop && (v < 0 || v > inLen - 1))
            {
                i0[o] = -1;
                i1[o] = 0;
                w[o] = 0;
                continue;
            }

            v = Math.Clamp(v, 0, inLen - 1);
            int a = (int)MathF.Floor(v);
            i0[o] = a;
            i1[o] = Math.Min(a + 1, inLen - 1);
            w[o] = v - a;
        }
    }

    private void Cubic(KernelContext ctx, TensorValue x, TensorValue y, ReadOnlySpan<float> scales, ReadOnlySpan<float> roi)
    {
        int r = x.Rank;
        if (x.Type != TensorElementType.Float32 || r < 2)
        {
            throw Error("Cubic resize supports float32 tensors of rank 2 or more.");
        }

        for (int d = 0; d < r - 2; d++)
        {
            if (x.Shape[d] != y.Shape[d])
            {
                throw Error("Cubic resize is supported on the last two axes only.");
            }
        }

        int inH = x.Shape[r - 2], inW = x.Shape[r - 1], outH = y.Shape[r - 2], outW = y.Shape[r - 1];
        Span<int> ints = ctx.Scratch<int>(8 * (outH + outW));
        Span<int> iy = ints[..(4 * outH)], ix = ints.Slice(4 * outH, 4 * outW);
        Span<float> wy = MemoryMarshal.Cast<int, float>(ints.Slice(4 * (outH + outW), 4 * outH));
        Span<float> wx = MemoryMarshal.Cast<int, float>(ints.Slice((8 * outH) + (4 * outW), 4 * outW));
        CubicAxis(outH, inH, scales[r - 2], roi[r - 2], roi[(2 * r) - 2], iy, wy);
        CubicAxis(outW, inW, scales[r - 1], roi[r - 1], roi[(2 * r) - 1], ix, wx);
        ReadOnlySpan<float> src = x.Span<float>();
        Span<float> dst = y.Span<float>();
        int planes = x.Length / (inH * inW);
        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<float> plane = src.Slice(p * inH * inW, inH * inW);
            Span<float> o = dst.Slice(p * outH * outW, outH * outW);
            for (int oy = 0; oy < outH; oy++)
            {
                for (int ox = 0; ox < outW; ox++)
                {
                    float sum = 0;
                    for (int a = 0; a < 4; a++)
                    {
                        float row = 0;
                        ReadOnlySpan<float> line = plane.Slice(iy[(4 * oy) + a] * inW, inW);
                        for (int b = 0; b < 4; b++)
                        {
                            row += wx[(4 * ox) + b] * line[ix[(4 * ox) + b]];
                        }

                        sum += wy[(4 * oy) + a] * row;
                    }

                    o[(oy * outW) + ox] = sum;
                }
            }
        }
    }

    /// <summary>Four taps per output coordinate: indices clamped to the input, Keys cubic weights (coefficient a).</summary>
    private void CubicAxis(int outLen, int inLen, float scale, float roiStart, float roiEnd, Span<int> idx, Span<float> w)
    {
        float a = _cubicA;
        for (int o = 0; o < outLen; o++)
        {
            float v = inLen == outLen && scale == 1f ? o : Original(o, inLen, outLen, scale, roiStart, roiEnd);
            int i0 = (int)MathF.Floor(v);
            float t = v - i0;
            float sum = 0;
            for (int k = 0; k < 4; k++)
            {
                int i = i0 - 1 + k;
                float d = MathF.Abs(t - (k - 1));
                float weight = d <= 1 ? ((((a + 2) * d) - (a + 3)) * d * d) + 1
                    : d < 2 ? (((((a * d) - (5 * a)) * d) + (8 * a)) * d) - (4 * a) : 0;
                if (_excludeOutside && (i < 0 || i >= inLen))
                {
                    weight = 0;
                }

                idx[(4 * o) + k] = Math.Clamp(i, 0, inLen - 1);
                w[(4 * o) + k] = weight;
                sum += weight;
            }

            if (_excludeOutside && sum != 0)
            {
                for (int k = 0; k < 4; k++)
                {
                    w[(4 * o) + k] /= sum;
                }
            }
        }
    }
}
