using System.Collections.Concurrent;
using System.Numerics.Tensors;
using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Kernels.Conv;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Kernels.Nn;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Kernels.Quantization;

/// <summary>
/// ConvInteger (int32 output) and QLinearConv (requantised uint8/int8 output) through <see cref="Conv2dInt8"/>.
/// Weights are constant (uint8 weights are shifted to int8 with their zero point). int8 activations are shifted to
/// uint8 (+128, zero point too). When the input zero point is only known at run time (DynamicQuantizeLinear), the
/// input is padded explicitly with it and the convolution runs with zero point 0, then corrected by zp * sum(w - wzp).
/// </summary>
internal sealed class QConvKernel : OpKernel
{
    private readonly bool _qlinear;
    private readonly WindowAttributes _win;
    private readonly int _group;
    private readonly int _outChannels;
    private readonly int _inChannels;
    private readonly sbyte[] _weights;
    private readonly int[] _wZeroPoints;
    private readonly int[] _bias;
    private readonly int[] _columnSums;
    private readonly bool? _inputSigned;
    private readonly int? _inputZeroPoint;
    private readonly Requantization? _requant;
    private readonly bool _outputSigned;
    private readonly Conv2dInt8? _fixed;
    private readonly ConcurrentDictionary<long, Conv2dInt8> _bySize = new();

    public QConvKernel(GraphNode node, KernelCreationContext cc)
        : base(node)
    {
        _qlinear = node.OpType == "QLinearConv";
        int wi = _qlinear ? 3 : 1;
        int xzi = 2;
        int wzi = _qlinear ? 5 : 3;
        OnnxTensor w = cc.Constant(node, wi) ?? throw new UnsupportedNodeException("the weights must be constant");
        if (w.Rank is not (3 or 4))
        {
            throw new UnsupportedNodeException("only 1-D and 2-D integer convolutions are supported");
        }

        _group = node.GetInt32("group", 1);
        _outChannels = w.Dimensions[0];
        _inChannels = w.Dimensions[1] * _group;
        _win = new WindowAttributes(node, w.Rank - 2, w.Shape[2..]);
        OnnxTensor? wzp = node.HasInput(wzi) ? cc.Constant(node, wzi) ?? throw new UnsupportedNodeException("the weight zero point must be constant") : null;
        int perChannel = w.Length == 0 ? 0 : (int)(w.Length / _outChannels);
        _weights = new sbyte[w.Length];
        _wZeroPoints = new int[_outChannels];
        _columnSums = new int[_outChannels];
        for (int m = 0; m < _outChannels; m++)
        {
            int z = QuantMath.ZeroPoint(wzp, m);
            int sum = 0;
            for (int k = 0; k < perChannel; k++)
            {
                int i = (m * perChannel) + k;
                int v = w switch
                {
                    OnnxTensor<sbyte> s => s.Data[i],
                    OnnxTensor<byte> b => b.Data[i] - 128,
                    _ => throw new UnsupportedNodeException("weights must be uint8 or int8"),
                };
                _weights[i] = (sbyte)v;
                sum += v - (w is OnnxTensor<byte> ? z - 128 : z);
            }

            _wZeroPoints[m] = w is OnnxTensor<byte> ? z - 128 : z;
            _columnSums[m] = sum;
        }

        OnnxTensor? xzp = node.HasInput(xzi) ? cc.Constant(node, xzi) : null;
        if (!node.HasInput(xzi))
        {
            _inputZeroPoint = 0;
        }
        else if (xzp is not null)
        {
            _inputSigned = xzp.ElementType == TensorElementType.Int8;
            _inputZeroPoint = QuantMath.ZeroPoint(xzp, 0) + (_inputSigned == true ? 128 : 0);
        }

        _bias = [];
        if (_qlinear)
        {
            if (node.HasInput(8))
            {
                _bias = (cc.Constant(node, 8) as OnnxTensor<int>)?.ToArray() ?? throw new UnsupportedNodeException("the bias must be a constant int32 tensor");
            }

            OnnxTensor xs = cc.Constant(node, 1) ?? throw new UnsupportedNodeException("the input scale must be constant");
            OnnxTensor ws = cc.Constant(node, 4) ?? throw new UnsupportedNodeException("the weight scale must be constant");
            OnnxTensor ys = cc.Constant(node, 6) ?? throw new UnsupportedNodeException("the output scale must be constant");
            OnnxTensor? yzp = node.HasInput(7) ? cc.Constant(node, 7) ?? throw new UnsupportedNodeException("the output zero point must be constant") : null;
            if (_inputZeroPoint is null)
            {
                throw new UnsupportedNodeException("the input zero point must be constant");
            }

            _outputSigned = yzp?.ElementType == TensorElementType.Int8;
            var scales = new float[ws.Length];
            for (int m = 0; m < scales.Length; m++)
            {
                scales[m] = QuantMath.Scale(xs, 0) * QuantMath.Scale(ws, m) / QuantMath.Scale(ys, 0);
            }

            _requant = new Requantization(scales, QuantMath.ZeroPoint(yzp, 0), _outputSigned);
        }

        if (_inputZeroPoint is int zp0 && !_win.IsAutoPadded)
        {
            _fixed = Build(_win.Shape2d(_inChannels, _outChannels, _group, 0, 0), (byte)zp0);
        }
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        if (x.Rank != _win.SpatialRank + 2)
        {
            throw Error($"Input rank {x.Rank} does not match the kernel.");
        }

        bool signed = x.Type == TensorElementType.Int8;
        if (x.Type is not (TensorElementType.UInt8 or TensorElementType.Int8))
        {
            throw Error($"Input type {x.Type} is not supported.");
        }

        int n = x.Shape[0], c = x.Shape[1];
        int inH = _win.SpatialRank == 2 ? x.Shape[2] : 1, inW = x.Shape[^1];
        if (c != _inChannels)
        {
            throw Error($"Input has {c} channels, the weights expect {_inChannels}.");
        }

        Conv2dShape full = _win.Shape2d(_inChannels, _outChannels, _group, inH, inW);
        int outH = full.OutputHeight(inH), outW = full.OutputWidth(inW);
        Span<int> shape = stackalloc int[x.Rank];
        shape[0] = n;
        shape[1] = _outChannels;
        if (_win.SpatialRank == 2)
        {
            shape[2] = outH;
        }

        shape[^1] = outW;
        TensorValue y = _qlinear
            ? ctx.Output(0, _outputSigned ? TensorElementType.Int8 : TensorElementType.UInt8, shape)
            : ctx.Output(0, TensorElementType.Int32, shape);

        ReadOnlySpan<byte> input = x.Bytes();
        if (_inputZeroPoint is int zp)
        {
            Conv2dInt8 conv = _fixed ?? GetBySize(inH, inW, (byte)zp);
            long convScratch = conv.ScratchBytes(n, inH, inW);
            Span<byte> scratch = ctx.Scratch<byte>(checked((int)(convScratch + (signed ? input.Length : 0))));
            if (signed)
            {
                Span<byte> shifted = scratch[..input.Length];
                TensorPrimitives.Xor(input, (byte)0x80, shifted);
                input = shifted;
                scratch = scratch[input.Length..];
            }

            if (_qlinear)
            {
                conv.Run(input, n, inH, inW, y.Bytes(), scratch, ctx.Pool);
            }
            else
            {
                conv.Run(input, n, inH, inW, y.Span<int>(), scratch, ctx.Pool);
            }

            return;
        }

        // Run-time zero point: pad explicitly with it, convolve with zero point 0, subtract zp * sum(w - wzp).
        int zx = QuantMath.ZeroPoint(ctx.OptionalInput(2), 0) + (signed ? 128 : 0);
        int ph = inH + full.PadTop + full.PadBottom, pw = inW + full.PadLeft + full.PadRight;
        var noPad = full with { PadTop = 0, PadBottom = 0, PadLeft = 0, PadRight = 0 };
        Conv2dInt8 dyn = GetUnpadded(noPad, ph, pw);
        long dynScratch = dyn.ScratchBytes(n, ph, pw);
        int paddedLength = n * c * ph * pw;
        Span<byte> all = ctx.Scratch<byte>(checked((int)(dynScratch + paddedLength)));
        Span<byte> padded = all[..paddedLength];
        padded.Fill((byte)zx);
        for (int p = 0; p < n * c; p++)
        {
            for (int iy = 0; iy < inH; iy++)
            {
                ReadOnlySpan<byte> row = input.Slice(((p * inH) + iy) * inW, inW);
                Span<byte> dst = padded.Slice((((p * ph) + iy + full.PadTop) * pw) + full.PadLeft, inW);
                if (signed)
                {
                    TensorPrimitives.Xor(row, (byte)0x80, dst);
                }
                else
                {
                    row.CopyTo(dst);
                }
            }
        }

        Span<int> acc = y.Span<int>();
        dyn.Run(padded, n, ph, pw, acc, all[paddedLength..], ctx.Pool);
        int plane = outH * outW;
        for (int b = 0; b < n; b++)
        {
            for (int m = 0; m < _outChannels; m++)
            {
                Span<int> o = acc.Slice(((b * _outChannels) + m) * plane, plane);
                TensorPrimitives.Subtract(o, zx * _columnSums[m], o);
            }
        }
    }

    private Conv2dInt8 Build(in Conv2dShape shape, byte zeroPoint)
        => new(shape, _weights, _wZeroPoints, _bias, zeroPoint, _requant);

    private Conv2dInt8 GetBySize(int inH, int inW, byte zeroPoint)
    {
        long key = ((long)inH << 32) | (uint)inW;
        if (_bySize.TryGetValue(key, out Conv2dInt8? c))
        {
            return c;
        }

        return _bySize.GetOrAdd(key, new Conv2dInt8(_win.Shape2d(_inChannels, _outChannels, _group, inH, inW), _weights, _wZeroPoints, _bias, zeroPoint, _requant));
    }

    private Conv2dInt8 GetUnpadded(in Conv2dShape shape, int ph, int pw)
    {
        long key = -(((long)ph << 32) | (uint)pw) - 1;
        if (_bySize.TryGetValue(key, out Conv2dInt8? c))
        {
            return c;
        }

        return _bySize.GetOrAdd(key, new Conv2dInt8(shape, _weights, _wZeroPoints, [], 0, null));
    }
}
