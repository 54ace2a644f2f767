namespace OnnxConformance;

/// <summary>
/// A float32 model with ResNet-18's exact layer shapes (torchvision's resnet18: 7x7/2 stem, 3x3/2 max pool, four stages of
/// two BasicBlocks with 64/128/256/512 channels, 1x1/2 downsampling shortcuts, global average pool, 512x1000 Gemm) and
/// deterministic random weights, exported the way PyTorch does before fusion: Conv + BatchNormalization + Relu.
/// Used for speed comparisons; it is 46 MB, so it is generated on demand and never committed.
/// </summary>
internal static class ResNet18
{
    public static CaseBuilder Build()
    {
        var c = new CaseBuilder("resnet18_shaped", 13, Rng.ForName("resnet18_shaped"));
        c.Description = "ResNet-18-shaped fp32 network with random weights, input \"input\" [batch,3,224,224], output \"logits\" [batch,1000]";
        string x = c.Input("input", TensorData.F32(c.Rng.Floats(3 * 224 * 224, -2f, 2f), 1, 3, 224, 224), "batch");
        string h = c.Node("Relu", [ConvBn(c, x, 3, 64, 7, 2, "conv1")]);
        h = c.Node("MaxPool", [h], A.Ints("kernel_shape", 3, 3), A.Ints("strides", 2, 2), A.Ints("pads", 1, 1, 1, 1));
        int inC = 64;
        int[] widths = [64, 128, 256, 512];
        for (int stage = 0; stage < 4; stage++)
        {
            for (int block = 0; block < 2; block++)
            {
                int outC = widths[stage];
                int stride = stage > 0 && block == 0 ? 2 : 1;
                string p = $"layer{stage + 1}.{block}";
                string y = c.Node("Relu", [ConvBn(c, h, inC, outC, 3, stride, p + ".conv1")]);
                y = ConvBn(c, y, outC, outC, 3, 1, p + ".conv2");
                string shortcut = stride != 1 || inC != outC ? ConvBn(c, h, inC, outC, 1, stride, p + ".downsample") : h;
                h = c.Node("Relu", [c.Node("Add", [y, shortcut])]);
                inC = outC;
            }
        }

        h = c.Node("Flatten", [c.Node("GlobalAveragePool", [h])], A.I("axis", 1));
        float s = 1f / MathF.Sqrt(512);
        string logits = c.NodeAs("logits", "Gemm", [h, c.InitF("fc.weight", [1000, 512], -s, s), c.InitF("fc.bias", [1000], -0.01f, 0.01f)], A.I("transB", 1));
        c.Model.Graph.Output.Add(new DefectDetection.Onnx.Model.Proto.ValueInfoProto
        {
            Name = logits,
            Type = new DefectDetection.Onnx.Model.Proto.TypeProto
            {
                TensorType = new DefectDetection.Onnx.Model.Proto.TypeProto.Types.Tensor
                {
                    ElemType = 1,
                    Shape = new DefectDetection.Onnx.Model.Proto.TensorShapeProto
                    {
                        Dim =
                        {
                            new DefectDetection.Onnx.Model.Proto.TensorShapeProto.Types.Dimension { DimParam = "batch" },
                            new DefectDetection.Onnx.Model.Proto.TensorShapeProto.Types.Dimension { DimValue = 1000 },
                        },
                    },
                },
            },
        });
        c.Tolerance = new Tolerance(Abs: 1e-3, Rel: 1e-3);
        return c;
    }

    /// <summary>Conv (no bias, He-scaled weights, "same" padding) followed by BatchNormalization with random statistics.</summary>
    public static string ConvBn(CaseBuilder c, string x, int inC, int outC, int k, int stride, string prefix)
    {
        float s = MathF.Sqrt(3f / (inC * k * k)); // uniform with variance 1/fan_in
        string w = c.InitF(prefix + ".weight", [outC, inC, k, k], -s, s);
        long p = k / 2;
        string y = c.Node("Conv", [x, w], A.Ints("kernel_shape", k, k), A.Ints("strides", stride, stride), A.Ints("pads", p, p, p, p));
        string bn = prefix + ".bn";
        return c.Node(
            "BatchNormalization",
            [y, c.InitF(bn + ".weight", [outC], 0.6f, 1.2f), c.InitF(bn + ".bias", [outC], -0.1f, 0.1f), c.InitF(bn + ".running_mean", [outC], -0.1f, 0.1f), c.InitF(bn + ".running_var", [outC], 0.8f, 1.2f)],
            A.F("epsilon", 1e-5f));
    }
}
