using DefectDetection.Onnx.Tests.Helpers;

namespace DefectDetection.Onnx.Tests.Kernels;

public sealed class QuantizationTests
{
    [Fact]
    public void DequantizeMatchesScalarDefinitionForAllLengths()
    {
        var rng = new Random(5);
        foreach (bool signed in new[] { false, true })
        {
            for (int n = 0; n <= 257; n++)
            {
                byte[] x = new byte[n];
                rng.NextBytes(x);
                int zp = signed ? rng.Next(-128, 128) : rng.Next(0, 256);
                float scale = (float)(rng.NextDouble() * 0.1) + 1e-4f;
                float[] y = new float[n + 1];
                y[n] = 42;
                DefectDetection.Onnx.Kernels.Quantization.QuantMath.Dequantize(x, signed, zp, scale, y);
                for (int i = 0; i < n; i++)
                {
                    int v = signed ? (sbyte)x[i] : x[i];
                    Assert.Equal((float)(v - zp) * scale, y[i]);
                }

                Assert.Equal(42, y[n]);
            }
        }
    }

    [Fact]
    public void QuantizeLinearRoundsHalfToEvenAndSaturatesUInt8()
    {
        float[] x = [0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 300, -300, 254.5f, 253.5f];
        using OnnxSession s = new GraphBuilder().Input("x", TensorElementType.Float32, x.Length).Initializer("s", [1f], []).Initializer("z", new byte[] { 0 }, [])
            .Node("QuantizeLinear", ["x", "s", "z"], ["y"]).Output("y", TensorElementType.UInt8, x.Length).Session();
        byte[] y = s.RunOne(("x", new OnnxTensor<float>(x, [x.Length]))).As<byte>().ToArray();
        Assert.Equal(new byte[] { 0, 2, 2, 0, 0, 255, 0, 254, 254 }, y);
    }

    [Fact]
    public void QuantizeLinearInt8WithScaleAndZeroPoint()
    {
        // x / 2 = 1.5, 2.5, 3.5, -64.5, 200 -> 2, 2, 4, -64, saturate; + zp 10 -> 12, 12, 14, -54, 127.
        float[] x = [3, 5, 7, -129, 400];
        using OnnxSession s = new GraphBuilder().Input("x", TensorElementType.Float32, x.Length).Initializer("s", [2f], []).Initializer("z", new sbyte[] { 10 }, [])
            .Node("QuantizeLinear", ["x", "s", "z"], ["y"]).Output("y", TensorElementType.Int8, x.Length).Session();
        sbyte[] y = s.RunOne(("x", new OnnxTensor<float>(x, [x.Length]))).As<sbyte>().ToArray();
        Assert.Equal(new sbyte[] { 12, 12, 14, -54, 127 }, y);
    }

    [Fact]
    public void QuantizeLinearVectorPathMatchesScalarDefinition()
    {
        var rng = new Random(3);
        float[] x = Enumerable.Range(0, 1000).Select(i => (float)((rng.NextDouble() * 600) - 300) / 4 * (i % 7 == 0 ? 0 : 1) + (i % 11 == 0 ? 0.5f : 0)).ToArray();
        using OnnxSession s = new GraphBuilder().Input("x", TensorElementType.Float32, x.Length).Initializer("s", [0.25f], []).Initializer("z", new byte[] { 128 }, [])
            .Node("QuantizeLinear", ["x", "s", "z"], ["y"]).Output("y", TensorElementType.UInt8, x.Length).Session();
        byte[] y = s.RunOne(("x", new OnnxTensor<float>(x, [x.Length]))).As<byte>().ToArray();
        for (int i = 0; i < x.Length; i++)
        {
            double q = Math.Round(x[i] / 0.25f, MidpointRounding.ToEven) + 128;
            Assert.Equal((byte)Math.Clamp(q, 0, 255), y[i]);
        }
    }

    [Fact]
    public void PerAxisQuantizeAndDequantize()
    {
        float[] x = [1, 2, 3, 4, 5, 6];
        using OnnxSession q = new GraphBuilder().Input("x", TensorElementType.Float32, 2, 3).Initializer("s", [1f, 2f, 4f], [3]).Initializer("z", new byte[] { 0, 1, 2 }, [3])
            .Node("QuantizeLinear", ["x", "s", "z"], ["y"], ("axis", 1)).Output("y", TensorElementType.UInt8, 2, 3).Session();
        byte[] y = q.RunOne(("x", new OnnxTensor<float>(x, [2, 3]))).As<byte>().ToArray();

        // Column scales 1, 2, 4 and zero points 0, 1, 2: 1/1, 2/2+1, 3/4=0.75->1 +2, 4, 5/2=2.5->2 +1, 6/4=1.5->2 +2.
        Assert.Equal(new byte[] { 1, 2, 3, 4, 3, 4 }, y);
        using OnnxSession dq = new GraphBuilder().Input("q", TensorElementType.UInt8, 2, 3).Initializer("s", [1f, 2f, 4f], [3]).Initializer("z", new byte[] { 0, 1, 2 }, [3])
            .Node("DequantizeLinear", ["q", "s", "z"], ["y"], ("axis", 1)).Output("y", TensorElementType.Float32, 2, 3).Session();
        Assert.Equal([1f, 2, 4, 4, 4, 8], dq.RunFloats(("q", new OnnxTensor<byte>(y, [2, 3]))));
    }

    [Fact]
    public void DynamicQuantizeLinearFollowsTheSpecExample()
    {
        // ONNX operator documentation example.
        float[] x = [0, 2, -3, -2.5f, 1.34f, 0.5f];
        using OnnxSession s = new GraphBuilder().Input("x", TensorElementType.Float32, 6)
            .Node("DynamicQuantizeLinear", ["x"], ["y", "scale", "zp"])
            .Output("y", TensorElementType.UInt8, 6).Output("scale", TensorElementType.Float32).Output("zp", TensorElementType.UInt8).Session();
        var r = s.Run(new Dictionary<string, OnnxTensor> { ["x"] = new OnnxTensor<float>(x, [6]) });
        byte[] y = r["y"].As<byte>().ToArray();

        // The spec lists 153, 255, 0, 26, 221, 179; -2.5/scale and 0.5/scale sit within float32 rounding of a .5 tie
        // (-127.5, 25.5), so those two depend on how the division rounds (ONNX Runtime divides in float32 as we do).
        Assert.Equal(new byte[] { 153, 255, 0, 221 }, new[] { y[0], y[1], y[2], y[4] });
        Assert.InRange(y[3], 25, 26);
        Assert.InRange(y[5], 178, 179);
        Assert.Equal(5f / 255f, r["scale"].As<float>().Span[0], 6);
        Assert.Equal(153, r["zp"].As<byte>().Span[0]);
    }

    [Fact]
    public void MatMulIntegerSubtractsZeroPoints()
    {
        using OnnxSession s = new GraphBuilder().Input("a", TensorElementType.UInt8, 2, 2)
            .Initializer("b", new byte[] { 1, 2, 3, 4 }, 2, 2).Initializer("az", new byte[] { 10 }, []).Initializer("bz", new byte[] { 1 }, [])
            .Node("MatMulInteger", ["a", "b", "az", "bz"], ["y"]).Output("y", TensorElementType.Int32, 2, 2).Session();
        int[] y = s.RunOne(("a", new OnnxTensor<byte>([11, 12, 13, 14], [2, 2]))).As<int>().ToArray();

        // (a - 10) = [[1,2],[3,4]], (b - 1) = [[0,1],[2,3]] -> [[4,7],[8,15]].
        Assert.Equal([4, 7, 8, 15], y);
    }

    [Fact]
    public void QLinearAddSameShapeAndBroadcast()
    {
        var b = new GraphBuilder(13);
        b.Proto.OpsetImport.Add(new DefectDetection.Onnx.Model.Proto.OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        using OnnxSession s = b.Input("a", TensorElementType.UInt8, 2).Input("b", TensorElementType.UInt8, -1)
            .Initializer("as", new float[] { 0.5f }, []).Initializer("az", new byte[] { 0 }, [])
            .Initializer("bs", new float[] { 0.25f }, []).Initializer("bz", new byte[] { 2 }, [])
            .Initializer("cs", new float[] { 1f }, []).Initializer("cz", new byte[] { 1 }, [])
            .NodeIn("com.microsoft", "QLinearAdd", ["a", "as", "az", "b", "bs", "bz", "cs", "cz"], ["y"]).Output("y", TensorElementType.UInt8).Session();

        // ONNX Runtime's kernel folds the output zero point in before rounding: 0.5 * 10 + 0.25 * 32 + (1 - 0.25 * 2) = 13.5
        // -> 14 (half to even); 0.5 * 20 + 0.25 * 42 + 0.5 = 21.
        Assert.Equal(new byte[] { 14, 21 }, s.RunOne(("a", new OnnxTensor<byte>([10, 20], [2])), ("b", new OnnxTensor<byte>([32, 42], [2]))).As<byte>().ToArray());

        // Broadcast of a scalar b: 5 + 8.5 = 13.5 -> 14; 10 + 8.5 = 18.5 -> 18.
        Assert.Equal(new byte[] { 14, 18 }, s.RunOne(("a", new OnnxTensor<byte>([10, 20], [2])), ("b", new OnnxTensor<byte>([32], [1]))).As<byte>().ToArray());
    }
}
