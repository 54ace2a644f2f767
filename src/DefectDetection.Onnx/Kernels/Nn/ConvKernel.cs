using System.Collections.Concurrent;
using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Kernels.Conv;
using DefectDetection.Onnx.Kernels.Gemm;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Kernels.Nn;

/// <summary>Float Conv (1-D and 2-D; groups, depthwise, dilations, strides, pads, auto_pad) through <see cref="Conv2dFloat"/>.</summary>
internal sealed class ConvKernel : OpKernel
{
    private readonly WindowAttributes? _win;
    private WindowAttributes? _runtimeWin;
    private readonly int _group;
    private readonly float[]? _weights;
    private readonly float[]? _bias;
    private readonly int[] _wShape;
    private readonly FusedActivationInfo _act;
    private readonly Conv2dFloat? _fixed;
    private readonly ConcurrentDictionary<long, Conv2dFloat> _bySize = new();

    public ConvKernel(GraphNode node, KernelCreationContext cc)
        : base(node)
    {
        _group = node.GetInt32("group", 1);
        OnnxTensor? w = cc.Constant(node, 1);
        OnnxTensor? b = cc.Constant(node, 2);
        _act = node.FusionData as FusedActivationInfo ?? FusedActivationInfo.None;
        _wShape = w?.Shape ?? [];
        long[]? kernelShape = node.GetInts("kernel_shape");
        int spatial = w is not null ? w.Rank - 2 : (kernelShape?.Length ?? 2);

        // Without constant weights or kernel_shape, the window comes from the weights' shape at run time.
        _win = w is null && kernelShape is null ? null : new WindowAttributes(node, spatial, w is not null ? _wShape[2..] : null);
        if (w is not null && w.ElementType != TensorElementType.Float32)
        {
            throw new UnsupportedNodeException("Conv weights must be float32");
        }

        _weights = (w as OnnxTensor<float>)?.Data;
        _bias = (b as OnnxTensor<float>)?.Data;
        if (w is not null && _win is not null && (node.HasInput(2) == (b is not null)) && !_win.IsAutoPadded)
        {
            int m = _wShape[0];
            _fixed = new Conv2dFloat(_win.Shape2d(_wShape[1] * _group, m, _group, 0, 0), _weights, _bias ?? [], _act.Activation);
        }
    }

    public override void Run(KernelContext ctx)
    {
        TensorValue x = ctx.Input(0);
        WindowAttributes win = _win ?? RuntimeWindow(ctx.Input(1));
        if (x.Rank != win.SpatialRank + 2)
        {
            throw Error($"Input rank {x.Rank} does not match the {win.SpatialRank}-D kernel.");
        }

        int n = x.Shape[0], c = x.Shape[1];
        int inH = win.SpatialRank == 2 ? x.Shape[2] : 1;
        int inW = x.Shape[^1];
        Conv2dFloat conv = _fixed ?? GetConv(ctx, win, c, inH, inW);
        Conv2dShape s = conv.Shape;
        if (s.InChannels != c)
        {
            throw Error($"Input has {c} channels, the weights expect {s.InChannels}.");
        }

        int outH = s.OutputHeight(inH), outW = s.OutputWidth(inW);
        if (outH <= 0 || outW <= 0)
        {
            throw Error($"The input {inH}x{inW} is smaller than the kernel.");
        }

        Span<int> shape = stackalloc int[x.Rank];
        shape[0] = n;
        shape[1] = s.OutChannels;
        if (win.SpatialRank == 2)
        {
            shape[2] = outH;
        }

        shape[^1] = outW;
        TensorValue y = ctx.Output(0, TensorElementType.Float32, shape);
        long scratch = conv.ScratchFloats(n, inH, inW);
        conv.Run(x.Span<float>(), n, inH, inW, y.Span<float>(), ctx.Scratch<float>(checked((int)scratch)), ctx.Pool);
        _act.ApplyPost(y.Span<float>());
    }

    /// <summary>The window for weights given at run time (kernel shape from their dims); reused while the shape holds.</summary>
    private WindowAttributes RuntimeWindow(TensorValue w)
    {
        if (w.Rank < 3)
        {
            throw Error($"Weights must have rank 3 or more, got {w.Rank}.");
        }

        WindowAttributes? cached = Volatile.Read(ref _runtimeWin);
        if (cached is not null && cached.SpatialRank == w.Rank - 2 && w.Dims[2..].SequenceEqual(cached.Kernel))
        {
            return cached;
        }

        try
        {
            cached = new WindowAttributes(Node, w.Rank - 2, w.Shape[2..]);
        }
        catch (UnsupportedNodeException e)
        {
            throw Error(e.Message);
        }

        Volatile.Write(ref _runtimeWin, cached);
        return cached;
    }

    private Conv2dFloat GetConv(KernelContext ctx, WindowAttributes win, int c, int inH, int inW)
    {
        if (_weights is not null && Node.HasInput(2) == (_bias is not null))
        {
            long key = ((long)inH << 32) | (uint)inW;
            if (_bySize.TryGetValue(key, out Conv2dFloat? cached))
            {
                return cached;
            }

            return _bySize.GetOrAdd(key, _ => new Conv2dFloat(win.Shape2d(c, _wShape[0], _group, inH, inW), _weights, _bias ?? [], _act.Activation));
        }

        // Weights (or bias) computed at run time: build the convolution per call.
        TensorValue w = ctx.Input(1);
        TensorValue? b = ctx.OptionalInput(2);
        return new Conv2dFloat(win.Shape2d(c, w.Shape[0], _group, inH, inW), w.Span<float>(), b is null ? [] : b.Span<float>(), _act.Activation);
    }
}
