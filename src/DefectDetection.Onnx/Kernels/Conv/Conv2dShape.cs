namespace DefectDetection.Onnx.Kernels.Conv;

/// <summary>
/// The static geometry of a 2-D convolution on NCHW tensors. Pads are explicit (auto_pad is resolved by the caller).
/// Weights are laid out [OutChannels, InChannels / Group, KernelH, KernelW].
/// </summary>
/// <param name="InChannels">C, input channels (all groups).</param>
/// <param name="OutChannels">M, output channels (all groups).</param>
/// <param name="Group">Number of groups; divides both C and M. Depthwise: Group == C == M.</param>
/// <param name="KernelH">Kernel height.</param>
/// <param name="KernelW">Kernel width.</param>
/// <param name="StrideH">Vertical stride (&gt;= 1).</param>
/// <param name="StrideW">Horizontal stride (&gt;= 1).</param>
/// <param name="DilationH">Vertical dilation (&gt;= 1).</param>
/// <param name="DilationW">Horizontal dilation (&gt;= 1).</param>
/// <param name="PadTop">Zero rows added above.</param>
/// <param name="PadLeft">Zero columns added on the left.</param>
/// <param name="PadBottom">Zero rows added below.</param>
/// <param name="PadRight">Zero columns added on the right.</param>
internal readonly record struct Conv2dShape(int InChannels, int OutChannels, int Group, int KernelH, int KernelW,
    int StrideH, int StrideW, int DilationH, int DilationW, int PadTop, int PadLeft, int PadBottom, int PadRight)
{
    /// <summary>Input channels per group.</summary>
    public int InChannelsPerGroup => InChannels / Group;

    /// <summary>Output channels per group.</summary>
    public int OutChannelsPerGroup => OutChannels / Group;

    /// <summary>Weight values per output channel: (C / group) * kH * kW.</summary>
    public int WeightsPerOutputChannel => InChannelsPerGroup * KernelH * KernelW;

    /// <summary>True for a depthwise convolution (one input and one output channel per group).</summary>
    public bool IsDepthwise => Group == InChannels && Group == OutChannels && Group > 1;

    /// <summary>True for a 1x1 convolution with stride 1 and no padding (a plain GEMM on NCHW).</summary>
    public bool IsPointwise => KernelH == 1 && KernelW == 1 && StrideH == 1 && StrideW == 1
                               && PadTop == 0 && PadLeft == 0 && PadBottom == 0 && PadRight == 0;

    /// <summary>Output height for an input of height <paramref name="inH"/> (may be &lt;= 0 for too small inputs).</summary>
    public int OutputHeight(int inH) => ((inH + PadTop + PadBottom - (DilationH * (KernelH - 1)) - 1) / StrideH) + 1;

    /// <summary>Output width for an input of width <paramref name="inW"/>.</summary>
    public int OutputWidth(int inW) => ((inW + PadLeft + PadRight - (DilationW * (KernelW - 1)) - 1) / StrideW) + 1;

    /// <summary>Throws <see cref="ArgumentException"/> unless the geometry is consistent.</summary>
    public void Validate()
    {
        if (InChannels <= 0 || OutChannels <= 0 || Group <= 0 || InChannels % Group != 0 || OutChannels % Group != 0)
        {
            throw new ArgumentException($"Invalid channel/group combination C={InChannels}, M={OutChannels}, group={Group}.");
        }

        if (KernelH <= 0 || KernelW <= 0 || StrideH <= 0 || StrideW <= 0 || DilationH <= 0 || DilationW <= 0)
        {
            throw new ArgumentException("Kernel size, strides and dilations must be positive.");
        }

        if (PadTop < 0 || PadLeft < 0 || PadBottom < 0 || PadRight < 0)
        {
            throw new ArgumentException("Pads must not be negative.");
        }
    }

    /// <summary>Validates input size and buffer lengths for one call; returns the output size.</summary>
    internal (int OutH, int OutW) CheckRun(long inputLength, int batch, int inH, int inW, long outputLength)
    {
        if (batch < 0 || inH <= 0 || inW <= 0)
        {
            throw new ArgumentException($"Invalid input size batch={batch}, H={inH}, W={inW}.");
        }

        int outH = OutputHeight(inH), outW = OutputWidth(inW);
        if (outH <= 0 || outW <= 0)
        {
            throw new ArgumentException($"The input {inH}x{inW} is smaller than the (dilated) kernel.");
        }

        if (inputLength < (long)batch * InChannels * inH * inW)
        {
            throw new ArgumentException("The input buffer is smaller than N x C x H x W.");
        }

        if (outputLength < (long)batch * OutChannels * outH * outW)
        {
            throw new ArgumentException("The output buffer is smaller than N x M x outH x outW.");
        }

        return (outH, outW);
    }
}
