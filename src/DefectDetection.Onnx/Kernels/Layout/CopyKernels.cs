using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Kernels.Elementwise;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Kernels.Layout;

/// <summary>Strided copy: y[i] = x[offset + sum(counter[d] * stride[d])], y contiguous in the given shape.</summary>
internal static class StridedCopy
{
    public static void Run(ReadOnlySpan<byte> x, int elemSize, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, Span<byte> y)
    {
        int rank = shape.Length;
        int total = 1;
        foreach (int d in shape)
        {
            total *= d;
        }

        if (total == 0)
        {
            return;
        }

        if (rank == 0)
        {
            x.Slice(offset * elemSize, elemSize).CopyTo(y);
            return;
        }

        int inner = shape[rank - 1];
        int innerStride = strides[rank - 1];
        int outer = total / inner;
        Span<int> counter = stackalloc int[rank];
        counter.Clear();
        int off = offset;
        int o = 0;
        for (int row = 0; row < outer; row++)
        {
            if (innerStride == 1)
            {
                x.Slice(off * elemSize, inner * elemSize).CopyTo(y.Slice(o, inner * elemSize));
                o += inner * elemSize;
            }
            else
            {
                switch (elemSize)
                {
                    case 4:
                        {
                            ReadOnlySpan<int> xs = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(x);
                            Span<int> ys = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(y.Slice(o, inner * 4));
                            int p = off;
                            for (int i = 0; i < inner; i++, p += innerStride)
                            {
                                ys[i] = xs[p];
                            }

                            break;
                        }

                    default:
                        {
                            int p = off;
                            for (int i = 0; i < inner; i++, p += innerStride)
                            {
                                x.Slice(p * elemSize, elemSize).CopyTo(y.Slice(o + (i * elemSize), elemSize));
                            }

                            break;
                        }
                }

                o += inner * elemSize;
            }

            for (int d = rank - 2; d >= 0; d--)
            {
                counter[d]++;
                off += strides[d];
                if (counter[d] < shape[d])
                {
                    break;
                }

                off -= strides[d] * shape[d];
                counter[d] = 0;
            }
        }
    }

    public static void ContiguousStrides(ReadOnlySpan<int> shape, Span<int> strides)
    {
        int s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= shape[i];
        }
    }
}

/// <summary>Transpose with a permutation (default: reversed axes).</summary>
internal sealed class TransposeKernel(GraphNode node) : OpKernel(node)
{
    private readonly int[]? _perm = Permutation(node);

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        int r = x.Rank;
        if (_perm is not null && _perm.Length != r)
        {
            throw Error($"perm has {_perm.Length} entries for rank {r}.");
        }

        Span<int> inStrides = stackalloc int[Math.Max(r, 1)];
        StridedCopy.ContiguousStrides(x.Dims, inStrides);
        Span<int> shape = stackalloc int[Math.Max(r, 1)];
        Span<int> strides = stackalloc int[Math.Max(r, 1)];
        for (int i = 0; i < r; i++)
        {
            int p = _perm is null ? r - 1 - i : _perm[i];
            shape[i] = x.Shape[p];
            strides[i] = inStrides[p];
        }

        TensorValue y = ctx.Output(0, x.Type, shape[..r]);
        if (r >= 2 && OnnxTensor.ElementSize(x.Type) == 4 && SwapsLastTwo(r))
        {
            // [..., R, C] -> [..., C, R]: blocked 2-D transposes (cache friendly for the long strides).
            int rows = x.Shape[r - 2], cols = x.Shape[r - 1];
            int batch = rows * cols == 0 ? 0 : x.Length / (rows * cols);
            ReadOnlySpan<int> src = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(x.Bytes());
            Span<int> dst = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(y.Bytes());
            for (int b = 0; b < batch; b++)
            {
                Transpose2d(src.Slice(b * rows * cols, rows * cols), dst.Slice(b * rows * cols, rows * cols), rows, cols);
            }

            return;
        }

        StridedCopy.Run(x.Bytes(), OnnxTensor.ElementSize(x.Type), 0, shape[..r], strides[..r], y.Bytes());
    }

    /// <summary>The perm attribute, refused at load unless it is a permutation of 0..n-1 (negative entries count
    /// from the end, as elsewhere in ONNX).</summary>
    private static int[]? Permutation(GraphNode node)
    {
        if (node.GetInts("perm") is not { } perm)
        {
            return null;
        }

        int n = perm.Length;
        int[] result = new int[n];
        bool[] seen = new bool[n];
        for (int i = 0; i < n; i++)
        {
            long p = perm[i] < 0 ? perm[i] + n : perm[i];
            if (p < 0 || p >= n || seen[p])
            {
                throw node.Error(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"Attribute 'perm' [{string.Join(",", perm)}] is not a permutation of 0..{n - 1} (entry {i} is {perm[i]})"));
            }

            seen[p] = true;
            result[i] = (int)p;
        }

        return result;
    }

    private bool SwapsLastTwo(int r)
    {
        if (_perm is null)
        {
            return r == 2;
        }

        for (int i = 0; i < r - 2; i++)
        {
            if (_perm[i] != i)
            {
                return false;
            }
        }

        return _perm[r - 2] == r - 1 && _perm[r - 1] == r - 2;
    }

    private static void Transpose2d(ReadOnlySpan<int> src, Span<int> dst, int rows, int cols)
    {
        const int Block = 32;
        for (int r0 = 0; r0 < rows; r0 += Block)
        {
            int r1 = Math.Min(r0 + Block, rows);
            for (int c0 = 0; c0 < cols; c0 += Block)
            {
                int c1 = Math.Min(c0 + Block, cols);
                for (int rr = r0; rr < r1; rr++)
                {
                    ReadOnlySpan<int> row = src.Slice(rr * cols, cols);
                    for (int cc = c0; cc < c1; cc++)
                    {
                        dst[(cc * rows) + rr] = row[cc];
                    }
                }
            }
        }
    }
}

/// <summary>Concat along an axis.</summary>
internal sealed class ConcatKernel(GraphNode node) : OpKernel(node)
{
    private readonly long _axis = node.GetInt("axis", 1);

    public override void Run(KernelContext ctx)
    {
        TensorValue first = ctx.Input(0);
        int r = first.Rank;
        int axis = ShapeHelpers.NormalizeAxis(_axis, r);
        Span<int> shape = stackalloc int[r];
        first.Dims.CopyTo(shape);
        int total = 0;
        for (int i = 0; i < ctx.InputCount; i++)
        {
            if (!ctx.HasInput(i))
            {
                continue;
            }

            TensorValue t = ctx.Input(i);
            if (t.Rank != r || t.Type != first.Type)
            {
                throw Error("All inputs must have the same rank and element type.");
            }

            for (int d = 0; d < r; d++)
            {
                if (d != axis && t.Shape[d] != shape[d])
                {
                    throw Error($"Input {i} has dimension {d} = {t.Shape[d]}, expected {shape[d]}.");
                }
            }

            total += t.Shape[axis];
        }

        shape[axis] = total;
        TensorValue y = ctx.Output(0, first.Type, shape);
        int es = OnnxTensor.ElementSize(first.Type);
        int outer = 1;
        for (int d = 0; d < axis; d++)
        {
            outer *= shape[d];
        }

        int inner = es;
        for (int d = axis + 1; d < r; d++)
        {
            inner *= shape[d];
        }

        Span<byte> dst = y.Bytes();
        int rowOut = total * inner;
        int colOffset = 0;
        for (int i = 0; i < ctx.InputCount; i++)
        {
            if (!ctx.HasInput(i))
            {
                continue;
            }

            TensorValue t = ctx.Input(i);
            int chunk = t.Shape[axis] * inner;
            ReadOnlySpan<byte> src = t.Bytes();
            for (int o = 0; o < outer; o++)
            {
                src.Slice(o * chunk, chunk).CopyTo(dst.Slice((o * rowOut) + colOffset, chunk));
            }

            colOffset += chunk;
        }
    }
}

/// <summary>Split along an axis: sizes from the attribute (opset &lt; 13), the input (13+), num_outputs (18+) or equal parts.</summary>
internal sealed class SplitKernel(GraphNode node) : OpKernel(node)
{
    private readonly long _axis = node.GetInt("axis", 0);
    private readonly long[]? _split = node.GetInts("split");

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        int r = x.Rank;
        int axis = ShapeHelpers.NormalizeAxis(_axis, r);
        int n = ctx.OutputCount;
        TensorValue? splitV = ctx.OptionalInput(1);
        Span<int> sizes = stackalloc int[n];
        int dim = x.Shape[axis];
        if (splitV is not null || _split is not null)
        {
            int count = splitV?.Length ?? _split!.Length;
            if (count != n)
            {
                throw Error($"split has {count} entries for {n} outputs.");
            }

            long sum = 0;
            for (int i = 0; i < n; i++)
            {
                sizes[i] = ShapeHelpers.Dimension(splitV?.GetInt64(i) ?? _split![i], $"split[{i}]");
                sum += sizes[i];
            }

            if (sum != dim)
            {
                throw Error($"split sums to {sum}, the axis has {dim}.");
            }
        }
        else
        {
            int part = (dim + n - 1) / n;
            int left = dim;
            for (int i = 0; i < n; i++)
            {
                sizes[i] = Math.Min(part, left);
                left -= sizes[i];
            }
        }

        int es = OnnxTensor.ElementSize(x.Type);
        int outer = 1;
        for (int d = 0; d < axis; d++)
        {
            outer *= x.Shape[d];
        }

        int inner = es;
        for (int d = axis + 1; d < r; d++)
        {
            inner *= x.Shape[d];
        }

        ReadOnlySpan<byte> src = x.Bytes();
        Span<int> shape = stackalloc int[r];
        x.Dims.CopyTo(shape);
        int col = 0;
        for (int i = 0; i < n; i++)
        {
            shape[axis] = sizes[i];
            TensorValue y = ctx.Output(i, x.Type, shape);
            Span<byte> dst = y.Bytes();
            int chunk = sizes[i] * inner;
            for (int o = 0; o < outer; o++)
            {
                src.Slice((o * dim * inner) + col, chunk).CopyTo(dst.Slice(o * chunk, chunk));
            }

            col += chunk;
        }
    }
}

/// <summary>Slice with starts/ends/axes/steps (attributes before opset 10, inputs after), negative steps included.</summary>
internal sealed class SliceKernel(GraphNode node) : OpKernel(node)
{
    private readonly long[]? _starts = node.GetInts("starts");
    private readonly long[]? _ends = node.GetInts("ends");
    private readonly long[]? _axes = node.GetInts("axes");

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        int r = x.Rank;
        bool attrs = Node.Opset < 10;
        TensorValue? startsV = attrs ? null : ctx.Input(1);
        TensorValue? endsV = attrs ? null : ctx.Input(2);
        TensorValue? axesV = attrs ? null : ctx.OptionalInput(3);
        TensorValue? stepsV = attrs ? null : ctx.OptionalInput(4);
        int n = startsV?.Length ?? _starts?.Length ?? 0;
        Span<int> start = stackalloc int[Math.Max(r, 1)];
        Span<int> step = stackalloc int[Math.Max(r, 1)];
        Span<int> shape = stackalloc int[Math.Max(r, 1)];
        for (int d = 0; d < r; d++)
        {
            start[d] = 0;
            step[d] = 1;
            shape[d] = x.Shape[d];
        }

        for (int i = 0; i < n; i++)
        {
            long axisRaw = axesV is not null ? axesV.GetInt64(i) : (_axes is not null ? _axes[i] : i);
            int axis = ShapeHelpers.NormalizeAxis(axisRaw, r);
            long dim = x.Shape[axis];
            long s = startsV?.GetInt64(i) ?? _starts![i];
            long e = endsV?.GetInt64(i) ?? _ends![i];
            long st = stepsV?.GetInt64(i) ?? 1;
            if (st == 0)
            {
                throw Error("A step of 0 is not allowed.");
            }

            // A step beyond the dimension takes one element at most; clamping keeps the arithmetic in range.
            st = Math.Clamp(st, -int.MaxValue, int.MaxValue);

            if (s < 0)
            {
                s += dim;
            }

            if (e < 0)
            {
                e += dim;
            }

            long count;
            if (st > 0)
            {
                s = Math.Clamp(s, 0, dim);
                e = Math.Clamp(e, 0, dim);
                count = e > s ? (e - s + st - 1) / st : 0;
            }
            else
            {
                s = Math.Clamp(s, 0, dim - 1);
                e = Math.Clamp(e, -1, dim - 1);
                count = s > e ? (s - e + (-st) - 1) / (-st) : 0;
            }

            start[axis] = (int)s;
            step[axis] = (int)st;
            shape[axis] = (int)count;
        }

        TensorValue y = ctx.Output(0, x.Type, shape[..r]);
        Span<int> inStrides = stackalloc int[Math.Max(r, 1)];
        StridedCopy.ContiguousStrides(x.Dims, inStrides);
        int offset = 0;
        Span<int> strides = stackalloc int[Math.Max(r, 1)];
        for (int d = 0; d < r; d++)
        {
            offset += start[d] * inStrides[d];
            strides[d] = step[d] * inStrides[d];
        }

        if (y.Length > 0)
        {
            StridedCopy.Run(x.Bytes(), OnnxTensor.ElementSize(x.Type), offset, shape[..r], strides[..r], y.Bytes());
        }
    }
}

/// <summary>Gather along an axis (negative indices count from the end).</summary>
internal sealed class GatherKernel(GraphNode node) : OpKernel(node)
{
    private readonly long _axis = node.GetInt("axis", 0);

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        TensorValue idx = ctx.Input(1);
        int r = x.Rank;
        int axis = ShapeHelpers.NormalizeAxis(_axis, r);
        int outRank = r - 1 + idx.Rank;
        if (outRank > Broadcast.MaxRank)
        {
            throw Error("Rank too large.");
        }

        Span<int> shape = stackalloc int[Math.Max(outRank, 1)];
        int k = 0;
        for (int d = 0; d < axis; d++)
        {
            shape[k++] = x.Shape[d];
        }

        for (int d = 0; d < idx.Rank; d++)
        {
            shape[k++] = idx.Shape[d];
        }

        for (int d = axis + 1; d < r; d++)
        {
            shape[k++] = x.Shape[d];
        }

        TensorValue y = ctx.Output(0, x.Type, shape[..outRank]);
        int es = OnnxTensor.ElementSize(x.Type);
        int outer = 1;
        for (int d = 0; d < axis; d++)
        {
            outer *= x.Shape[d];
        }

        int inner = es;
        for (int d = axis + 1; d < r; d++)
        {
            inner *= x.Shape[d];
        }

        int dim = x.Shape[axis];
        ReadOnlySpan<byte> src = x.Bytes();
        Span<byte> dst = y.Bytes();
        int ni = idx.Length;
        for (int o = 0; o < outer; o++)
        {
            for (int j = 0; j < ni; j++)
            {
                long i = idx.GetInt64(j);
                if (i < 0)
                {
                    i += dim;
                }

                if ((ulong)i >= (ulong)dim)
                {
                    throw Error($"Index {idx.GetInt64(j)} is out of range for a dimension of {dim}.");
                }

                src.Slice(((o * dim) + (int)i) * inner, inner).CopyTo(dst.Slice(((o * ni) + j) * inner, inner));
            }
        }
    }
}

/// <summary>Tile by repeats.</summary>
internal sealed class TileKernel(GraphNode node) : OpKernel(node)
{
    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        TensorValue rep = ctx.Input(1);
        int r = x.Rank;
        if (rep.Length != r)
        {
            throw Error($"repeats has {rep.Length} entries for rank {r}.");
        }

        Span<int> shape = stackalloc int[Math.Max(r, 1)];
        for (int d = 0; d < r; d++)
        {
            int m = ShapeHelpers.Dimension(rep.GetInt64(d), $"repeats[{d}]");
            shape[d] = ShapeHelpers.Dimension((long)x.Shape[d] * m, $"output dimension {d}");
        }

        TensorValue y = ctx.Output(0, x.Type, shape[..r]);
        int es = OnnxTensor.ElementSize(x.Type);
        Span<int> inStrides = stackalloc int[Math.Max(r, 1)];
        StridedCopy.ContiguousStrides(x.Dims, inStrides);
        Span<int> counter = stackalloc int[Math.Max(r, 1)];
        counter.Clear();
        ReadOnlySpan<byte> src = x.Bytes();
        Span<byte> dst = y.Bytes();
        for (int i = 0; i < y.Length; i++)
        {
            int off = 0;
            for (int d = 0; d < r; d++)
            {
                off += (counter[d] % x.Shape[d]) * inStrides[d];
            }

            src.Slice(off * es, es).CopyTo(dst.Slice(i * es, es));
            for (int d = r - 1; d >= 0; d--)
            {
                if (++counter[d] < shape[d])
                {
                    break;
                }

                counter[d] = 0;
            }
        }
    }
}

/// <summary>Pad: constant, reflect, edge (and wrap); pads as attribute (opset &lt; 11) or input, optional axes (18+).</summary>
internal sealed class PadKernel : OpKernel
{
    private readonly string _mode;
    private readonly int[]? _pads;
    private readonly float _value;

    public PadKernel(GraphNode node)
        : base(node)
    {
        _mode = node.GetString("mode", "constant");
        _pads = node.GetInts32(node.Opset < 11 ? (node.HasAttribute("pads") ? "pads" : "paddings") : "pads");
        _value = node.GetFloat("value", 0f);
        if (_mode is not ("constant" or "reflect" or "edge" or "wrap"))
        {
            throw new UnsupportedNodeException($"Pad mode '{_mode}' is not supported");
        }
    }

    /// <summary>A pad (negative crops) within the 32-bit range, so that the output size cannot overflow.</summary>
    private static long PadValue(long value, int index)
        => value is >= -int.MaxValue and <= int.MaxValue ? value
            : throw new OnnxModelException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"pads[{index}] is {value}, outside the 32-bit range."));

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        int r = x.Rank;
        Span<long> pads = stackalloc long[2 * Math.Max(r, 1)];
        pads.Clear();
        if (Node.Opset < 11)
        {
            for (int i = 0; i < Math.Min(_pads?.Length ?? 0, 2 * r); i++)
            {
                pads[i] = _pads![i];
            }
        }
        else
        {
            TensorValue p = ctx.Input(1);
            TensorValue? axesV = ctx.OptionalInput(3);
            int na = axesV?.Length ?? r;
            if (p.Length != 2 * na)
            {
                throw Error($"pads has {p.Length} entries, expected {2 * na}.");
            }

            for (int i = 0; i < na; i++)
            {
                int axis = axesV is null ? i : ShapeHelpers.NormalizeAxis(axesV.GetInt64(i), r);
                pads[axis] = PadValue(p.GetInt64(i), i);
                pads[axis + r] = PadValue(p.GetInt64(i + na), i + na);
            }
        }

        Span<int> shape = stackalloc int[Math.Max(r, 1)];
        for (int d = 0; d < r; d++)
        {
            shape[d] = ShapeHelpers.Dimension(x.Shape[d] + pads[d] + pads[d + r], $"output dimension {d}");
        }

        TensorValue y = ctx.Output(0, x.Type, shape[..r]);
        int es = OnnxTensor.ElementSize(x.Type);
        Span<byte> fill = stackalloc byte[8];
        TensorValue? cv = Node.Opset >= 11 ? ctx.OptionalInput(2) : null;
        if (cv is not null && cv.Length > 0)
        {
            cv.Bytes()[..es].CopyTo(fill);
        }
        else if (x.Type == TensorElementType.Float32)
        {
            System.Runtime.InteropServices.MemoryMarshal.Write(fill, _value);
        }
        else
        {
            fill.Clear();
        }

        Span<int> inStrides = stackalloc int[Math.Max(r, 1)];
        StridedCopy.ContiguousStrides(x.Dims, inStrides);
        Span<int> counter = stackalloc int[Math.Max(r, 1)];
        counter.Clear();
        ReadOnlySpan<byte> src = x.Bytes();
        Span<byte> dst = y.Bytes();
        for (int i = 0; i < y.Length; i++)
        {
            int off = 0;
            bool outside = false;
            for (int d = 0; d < r; d++)
            {
                long c = counter[d] - pads[d];
                int n = x.Shape[d];
                if (c < 0 || c >= n)
                {
                    if (_mode == "constant" || n == 0)
                    {
                        outside = true;
                        break;
                    }

                    c = _mode switch
                    {
                        "edge" => Math.Clamp(c, 0, n - 1),
                        "wrap" => ((c % n) + n) % n,
                        _ => Reflect(c, n),
                    };
                }

                off += (int)c * inStrides[d];
            }

            if (outside)
            {
                fill[..es].CopyTo(dst.Slice(i * es, es));
            }
            else
            {
                src.Slice(off * es, es).CopyTo(dst.Slice(i * es, es));
            }

            for (int d = r - 1; d >= 0; d--)
            {
                if (++counter[d] < shape[d])
                {
                    break;
                }

                counter[d] = 0;
            }
        }
    }

    private static long Reflect(long c, int n)
    {
        if (n == 1)
        {
            return 0;
        }

        long period = 2L * (n - 1);
        c = ((c % period) + period) % period;
        return c < n ? c : period - c;
    }
}
