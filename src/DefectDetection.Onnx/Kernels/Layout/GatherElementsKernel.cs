using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Kernels.Layout;

/// <summary>GatherElements: output[i] = data[i with the axis coordinate replaced by indices[i]] (negative indices
/// count from the end); the output has the shape of the indices.</summary>
internal sealed class GatherElementsKernel(GraphNode node) : OpKernel(node)
{
    private readonly long _axis = node.GetInt("axis", 0);

    public override void Run(KernelContext ctx)
    {
        TensorValue data = ctx.Input(0);
        TensorValue indices = ctx.Input(1);
        int r = data.Rank;
        if (indices.Rank != r || r == 0)
        {
            throw Error($"indices must have the rank of data ({r}), got {indices.Rank}.");
        }

        int axis = ShapeHelpers.NormalizeAxis(_axis, r);
        TensorValue y = ctx.Output(0, data.Type, indices.Dims);
        Span<int> strides = stackalloc int[r];
        StridedCopy.ContiguousStrides(data.Dims, strides);
        Span<int> counter = stackalloc int[r];
        counter.Clear();
        int size = OnnxTensor.ElementSize(data.Type);
        ReadOnlySpan<byte> src = data.Bytes();
        Span<byte> dst = y.Bytes();
        int dim = data.Shape[axis];
        int baseOff = 0;
        for (int i = 0; i < y.Length; i++)
        {
            long idx = indices.GetInt64(i);
            if (idx < -dim || idx >= dim)
            {
                throw Error($"Index {idx} is out of range for axis dimension {dim}.");
            }

            if (idx < 0)
            {
                idx += dim;
            }

            int off = baseOff + ((int)idx * strides[axis]);
            src.Slice(off * size, size).CopyTo(dst.Slice(i * size, size));
            for (int d = r - 1; d >= 0; d--)
            {
                counter[d]++;
                if (d != axis)
                {
                    baseOff += strides[d];
                }

                if (counter[d] < indices.Shape[d])
                {
                    break;
                }

                if (d != axis)
                {
                    baseOff -= strides[d] * indices.Shape[d];
                }

                counter[d] = 0;
            }
        }
    }
}
