using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Kernels.Nn;

/// <summary>
/// ConvTranspose (1-D and 2-D; groups, strides, dilations, pads, output_padding, output_shape, auto_pad):
/// per group, cols = W^T X through <see cref="Sgemm"/>, then col2im scatter-add.
/// </summary>
internal sealed class ConvTransposeKernel : OpKernel
{
    private readonly int _group;
    private readonly int[] _kernel;
    private readonly int[] _strides;
    private readonly int[] _dilations;
    private readonly int[] _pads;
    private readonly int[] _outputPadding;
    private readonly int[]? _outputShape;
    private readonly string _autoPad;
    private readonly int _spatial;

    public ConvTransposeKernel(GraphNode node, KernelCreationContext cc)
        : base(node)
    {
        _group = node.GetInt32("group", 1);
        OnnxTensor? w = cc.Constant(node, 1);
        long[]? ks = node.GetInts("kernel_shape");
        _spatial = w is not null ? w.Rank - 2 : ks?.Length ?? 2;
        if (_spatial is < 1 or > 2)
        {
            throw new UnsupportedNodeException($"{_spatial}-D ConvTranspose is not supported");
        }

        _kernel = node.GetInts32("kernel_shape") ?? w?.Shape[2..] ?? throw new UnsupportedNodeException("kernel_shape is required");
        _strides = node.GetInts32("strides") ?? Enumerable.Repeat(1, _spatial).ToArray();
        _dilations = node.GetInts32("dilations") ?? Enumerable.Repeat(1, _spatial).ToArray();
        _pads = node.GetInts32("pads") ?? new int[2 * _spatial];
        _outputPadding = node.GetInts32("output_padding") ?? new int[_spatial];
        _outputShape = node.GetInts32("output_shape");
        _autoPad = node.GetString("auto_pad", "NOTSET");
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        TensorValue w = ctx.Input(1);
        TensorValue? b = ctx.OptionalInput(2);
        if (x.Rank != _spatial + 2 || w.Rank != _spatial + 2)
        {
            throw Error("Input and weight ranks do not match the kernel.");
        }

        int n = x.Shape[0], c = x.Shape[1];
        int mg = w.Shape[1], m = mg * _group, cg = c / _group;
        bool twoD = _spatial == 2;
        int inH = twoD ? x.Shape[2] : 1, inW = x.Shape[^1];
        int kH = twoD ? _kernel[0] : 1, kW = _kernel[^1];
        int sH = twoD ? _strides[0] : 1, sW = _strides[^1];
        int dH = twoD ? _dilations[0] : 1, dW = _dilations[^1];
        (int pt, int outH) = twoD ? Resolve(0, inH) : (0, 1);
        (int pl, int outW) = Resolve(_spatial - 1, inW);
        Span<int> shape = stackalloc int[x.Rank];
        shape[0] = n;
        shape[1] = m;
        if (twoD)
        {
            shape[2] = outH;
        }

        shape[^1] = outW;
        TensorValue y = ctx.Output(0, TensorElementType.Float32, shape);
        Span<float> dst = y.Span<float>();
        dst.Clear();
        int kk = mg * kH * kW;
        int hw = inH * inW;
        Span<float> cols = ctx.Scratch<float>(kk * hw);
        ReadOnlySpan<float> src = x.Span<float>();
        ReadOnlySpan<float> wt = w.Span<float>();
        for (int bi = 0; bi < n; bi++)
        {
            for (int g = 0; g < _group; g++)
            {
                // W group: [cg, mg*kH*kW] (rows = input channels); cols = W^T [kk, cg] x X [cg, hw].
                ReadOnlySpan<float> wg = wt.Slice(g * cg * kk, cg * kk);
                ReadOnlySpan<float> xg = src.Slice(((bi * c) + (g * cg)) * hw, cg * hw);
                Sgemm.Multiply(true, false, kk, hw, cg, 1f, wg, kk, xg, hw, 0f, cols, hw, ctx.Pool);
                for (int oc = 0; oc < mg; oc++)
                {
                    Span<float> plane = dst.Slice(((bi * m) + (g * mg) + oc) * outH * outW, outH * outW);
                    for (int ky = 0; ky < kH; ky++)
                    {
                        for (int kx = 0; kx < kW; kx++)
                        {
                            ReadOnlySpan<float> col = cols.Slice((((oc * kH) + ky) * kW + kx) * hw, hw);
                            for (int iy = 0; iy < inH; iy++)
                            {
                                int oy = (iy * sH) - pt + (ky * dH);
                                if ((uint)oy >= (uint)outH)
                                {
                                    continue;
                                }

                                for (int ix = 0; ix < inW; ix++)
                                {
                                    int ox = (ix * sW) - pl + (kx * dW);
                                    if ((uint)ox < (uint)outW)
                                    {
                                        plane[(oy * outW) + ox] += col[(iy * inW) + ix];
                                    }
                                }
                            }
                        }
                    }

                    if (b is not null)
                    {
                        System.Numerics.Tensors.TensorPrimitives.Add(plane, b.Span<float>()[(g * mg) + oc], plane);
                    }
                }
            }
        }
    }

    private (int PadBegin, int Out) Resolve(int axis, int inSize)
    {
        int k = ((_kernel[axis] - 1) * _dilations[axis]) + 1;
        int full = (_strides[axis] * (inSize - 1)) + _outputPadding[axis] + k;
        if (_outputShape is not null)
        {
            int target = _outputShape[_outputShape.Length - _spatial + axis];
            int total = full - target;
            int begin = _autoPad == "SAME_UPPER" ? total / 2 : total - (total / 2);
            return (begin, target);
        }

        if (_autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            int target = inSize * _strides[axis];
            int total = full - target;
            int begin = _autoPad == "SAME_UPPER" ? total / 2 : total - (total / 2);
            return (begin, target);
        }

        return (_pads[axis], full - _pads[axis] - _pads[axis + _spatial]);
    }
}
