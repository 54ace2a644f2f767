using DefectDetection.Onnx.Kernels.Detection;
using DefectDetection.Onnx.Kernels.Elementwise;
using DefectDetection.Onnx.Kernels.Layout;
using DefectDetection.Onnx.Kernels.Nn;
using DefectDetection.Onnx.Kernels.Quantization;
using DefectDetection.Onnx.Kernels.Reduction;

using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Kernels;

/// <summary>The registration table: every supported (op type, domain, opset range) and its kernel factory.</summary>
internal static partial class KernelRegistry
{
    /// <summary>The domain of ORT's contrib operators that the QDQ rewrite targets (QGemm, QLinearAdd).</summary>
    public const string MicrosoftDomain = "com.microsoft";

    /// <summary>The domain of this engine's own fused operators (never in model files).</summary>
    public const string InternalDomain = "ai.defectdetection.internal";

    private const int Max = 21;

    static partial void Register(List<KernelRegistration> list)
    {
        void Add(string op, int since, KernelFactory f, string domain = "", int end = Max) => list.Add(new KernelRegistration(op, domain, since, end, f));

        // Element-wise, binary with broadcasting.
        foreach (string op in new[] { "Add", "Sub", "Mul", "Div", "Pow", "PRelu", "Equal", "Greater", "Less", "And" })
        {
            Add(op, 7, (n, _) => new BinaryKernel(n));
        }

        foreach (string op in new[] { "Max", "Min" })
        {
            Add(op, 8, (n, _) => n.Inputs.Count == 2 ? new BinaryKernel(n) : throw new UnsupportedNodeException($"{op} with {n.Inputs.Count} inputs is not supported (2 are)"));
        }

        Add("Where", 9, (n, _) => new WhereKernel(n));

        // Element-wise, unary.
        foreach (string op in new[] { "Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal", "Erf", "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "Tanh", "Floor", "Ceil", "Softplus", "Elu", "Selu", "Not", "Sin", "Cos" })
        {
            Add(op, 6, (n, _) => new UnaryKernel(n));
        }

        Add("HardSwish", 14, (n, _) => new UnaryKernel(n));
        Add("Round", 11, (n, _) => new UnaryKernel(n));
        Add("Clip", 6, (n, _) => new ClipKernel(n));
        Add("Identity", 1, (n, _) => new IdentityKernel(n));
        Add("Dropout", 7, (n, _) => new IdentityKernel(n));
        Add("Cast", 6, (n, _) => new CastKernel(n));

        // Neural network.
        Add("Conv", 1, (n, c) => new ConvKernel(n, c));
        Add("ConvTranspose", 1, (n, c) => new ConvTransposeKernel(n, c));
        Add("Gemm", 7, (n, c) => new GemmKernel(n, c));
        Add("MatMul", 1, (n, c) => new MatMulKernel(n, c));
        Add("MaxPool", 7, (n, _) => new PoolKernel(n));
        Add("AveragePool", 7, (n, _) => new PoolKernel(n));
        Add("GlobalAveragePool", 1, (n, _) => new GlobalPoolKernel(n));
        Add("GlobalMaxPool", 1, (n, _) => new GlobalPoolKernel(n));
        Add("BatchNormalization", 7, (n, _) => new BatchNormKernel(n));
        Add("InstanceNormalization", 6, (n, _) => new InstanceNormKernel(n));
        Add("LayerNormalization", 17, (n, _) => new LayerNormKernel(n));
        Add("Softmax", 1, (n, _) => new SoftmaxKernel(n));
        Add("LogSoftmax", 1, (n, _) => new SoftmaxKernel(n));
        Add("Resize", 10, (n, _) => new ResizeKernel(n));
        Add("Upsample", 7, (n, _) => new ResizeKernel(n), end: 9);

        // Layout and shape.
        Add("Concat", 4, (n, _) => new ConcatKernel(n));
        Add("Split", 2, (n, _) => new SplitKernel(n));
        Add("Slice", 1, (n, _) => new SliceKernel(n));
        Add("Reshape", 5, (n, _) => new ReshapeKernel(n));
        Add("Flatten", 1, (n, _) => new FlattenKernel(n));
        Add("Transpose", 1, (n, _) => new TransposeKernel(n));
        Add("Squeeze", 1, (n, _) => new SqueezeKernel(n));
        Add("Unsqueeze", 1, (n, _) => new SqueezeKernel(n));
        Add("Gather", 1, (n, _) => new GatherKernel(n));
        Add("Shape", 1, (n, _) => new ShapeKernel(n));
        Add("Size", 1, (n, _) => new SizeKernel(n));
        Add("Constant", 1, (n, _) => new ConstantKernel(n));
        Add("ConstantOfShape", 9, (n, _) => new ConstantOfShapeKernel(n));
        Add("Expand", 8, (n, _) => new ExpandKernel(n));
        Add("Tile", 6, (n, _) => new TileKernel(n));
        Add("Pad", 2, (n, _) => new PadKernel(n));

        // Reductions.
        foreach (string op in new[] { "ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd", "ReduceL2" })
        {
            Add(op, 1, (n, _) => new ReduceKernel(n));
        }

        Add("ArgMax", 1, (n, _) => new ArgKernel(n));
        Add("ArgMin", 1, (n, _) => new ArgKernel(n));
        Add("TopK", 1, (n, _) => new TopKKernel(n));
        Add("NonMaxSuppression", 10, (n, _) => new NonMaxSuppressionKernel(n));

        // Quantization.
        Add("QuantizeLinear", 10, (n, _) => new QuantizeLinearKernel(n));
        Add("DequantizeLinear", 10, (n, _) => new DequantizeLinearKernel(n));
        Add("DynamicQuantizeLinear", 11, (n, _) => new DynamicQuantizeLinearKernel(n));
        Add("ConvInteger", 10, (n, c) => new QConvKernel(n, c));
        Add("QLinearConv", 10, (n, c) => new QConvKernel(n, c));
        Add("MatMulInteger", 10, (n, c) => new QMatMulKernel(n, c));
        Add("QLinearMatMul", 10, (n, c) => new QMatMulKernel(n, c));
        Add("QGemm", 1, (n, c) => new QMatMulKernel(n, c), MicrosoftDomain);
        Add("QLinearAdd", 1, (n, _) => new QLinearAddKernel(n), MicrosoftDomain);
        Add("QLinearConv", 1, (n, c) => new QConvKernel(n, c), MicrosoftDomain);
        Add("IntegerToFloat", 1, (n, _) => new IntegerToFloatKernel(n), InternalDomain);
    }
}
