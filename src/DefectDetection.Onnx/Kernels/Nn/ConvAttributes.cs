using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Kernels.Conv;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Kernels.Nn;

/// <summary>Conv / pooling window attributes for 1-D and 2-D windows (1-D is run as 2-D with height 1).</summary>
internal sealed class WindowAttributes
{
    public WindowAttributes(GraphNode node, int spatialRank, int[]? kernelFromWeights)
    {
        SpatialRank = spatialRank;
        if (spatialRank is < 1 or > 2)
        {
            throw new UnsupportedNodeException($"{spatialRank}-D windows are not supported (only 1-D and 2-D)");
        }

        Kernel = node.GetInts32("kernel_shape") ?? kernelFromWeights ?? throw new UnsupportedNodeException("kernel_shape is required");
        Strides = node.GetInts32("strides") ?? Enumerable.Repeat(1, spatialRank).ToArray();
        Dilations = node.GetInts32("dilations") ?? Enumerable.Repeat(1, spatialRank).ToArray();
        Pads = node.GetInts32("pads") ?? new int[2 * spatialRank];
        AutoPad = node.GetString("auto_pad", "NOTSET");
        if (AutoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER"))
        {
            throw new UnsupportedNodeException($"auto_pad '{AutoPad}' is not supported");
        }

        CeilMode = node.GetInt("ceil_mode", 0) != 0;
        if (Kernel.Length != spatialRank || Strides.Length != spatialRank || Dilations.Length != spatialRank || Pads.Length != 2 * spatialRank)
        {
            throw new UnsupportedNodeException("kernel_shape, strides, dilations and pads must match the spatial rank");
        }

        if (Kernel.Any(k => k <= 0) || Strides.Any(s => s <= 0) || Dilations.Any(d => d <= 0) || Pads.Any(p => p < 0))
        {
            throw new UnsupportedNodeException("kernel sizes, strides and dilations must be positive and pads not negative");
        }
    }

    public int SpatialRank { get; }

    public int[] Kernel { get; }

    public int[] Strides { get; }

    public int[] Dilations { get; }

    public int[] Pads { get; }

    public string AutoPad { get; }

    public bool CeilMode { get; }

    public bool IsAutoPadded => AutoPad is "SAME_UPPER" or "SAME_LOWER";

    /// <summary>Resolves the 2-D view (height 1 for 1-D windows) with the pads for this input size.</summary>
    public Conv2dShape Shape2d(int inChannels, int outChannels, int group, int inH, int inW)
    {
        if (SpatialRank == 1)
        {
            (int b, int e) = ResolvePads(0, inW);
            return new Conv2dShape(inChannels, outChannels, group, 1, Kernel[0], 1, Strides[0], 1, Dilations[0], 0, b, 0, e);
        }

        (int t, int bt) = ResolvePads(0, inH);
        (int l, int r) = ResolvePads(1, inW);
        return new Conv2dShape(inChannels, outChannels, group, Kernel[0], Kernel[1], Strides[0], Strides[1], Dilations[0], Dilations[1], t, l, bt, r);
    }

    public (int Begin, int End) ResolvePads(int axis, int inSize)
    {
        int k = ((Kernel[axis] - 1) * Dilations[axis]) + 1;
        switch (AutoPad)
        {
            case "VALID":
                return (0, 0);
            case "SAME_UPPER":
            case "SAME_LOWER":
                {
                    int outSize = (inSize + Strides[axis] - 1) / Strides[axis];
                    int total = Math.Max(0, ((outSize - 1) * Strides[axis]) + k - inSize);
                    int small = total / 2;
                    return AutoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small);
                }

            default:
                return (Pads[axis], Pads[axis + SpatialRank]);
        }
    }

    /// <summary>Pooling output size (floor or ceil mode; a window starting in the end padding is dropped).</summary>
    public int PoolOutputSize(int axis, int inSize, int padBegin, int padEnd)
    {
        int k = ((Kernel[axis] - 1) * Dilations[axis]) + 1;
        if (IsAutoPadded)
        {
            return (inSize + Strides[axis] - 1) / Strides[axis];
        }

        if (AutoPad == "VALID")
        {
            return ((inSize - k) / Strides[axis]) + 1;
        }

        int span = inSize + padBegin + padEnd - k;
        if (span < 0)
        {
            return 0;
        }

        int outSize = CeilMode ? ((span + Strides[axis] - 1) / Strides[axis]) + 1 : (span / Strides[axis]) + 1;
        if (CeilMode && (outSize - 1) * Strides[axis] >= inSize + padBegin)
        {
            outSize--;
        }

        return outSize;
    }

}

/// <summary>What activation-fusion attached to a Conv/Gemm node.</summary>
internal sealed record FusedActivationInfo(Gemm.ActivationParams Activation, bool SiLU)
{
    public static FusedActivationInfo None { get; } = new(Gemm.ActivationParams.None, false);

    /// <summary>Applies what the low-level kernel did not (SiLU: x * sigmoid(x)).</summary>
    public void ApplyPost(Span<float> values)
    {
        if (!SiLU)
        {
            return;
        }

        Span<float> tmp = stackalloc float[256];
        for (int i = 0; i < values.Length; i += 256)
        {
            Span<float> v = values.Slice(i, Math.Min(256, values.Length - i));
            Span<float> t = tmp[..v.Length];
            System.Numerics.Tensors.TensorPrimitives.Sigmoid(v, t);
            System.Numerics.Tensors.TensorPrimitives.Multiply(v, t, v);
        }
    }
}
