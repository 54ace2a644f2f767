using DefectDetection.Onnx.Model.Proto;
using DefectDetection.Onnx.Tests.Helpers;
using Google.Protobuf;

namespace DefectDetection.Onnx.Tests.Kernels;

public sealed class NnTests
{
    [Fact]
    public void ConvTransposeStride2AndStride1()
    {
        using OnnxSession s2 = new GraphBuilder().Input("x", TensorElementType.Float32, 1, 1, 2, 2).Initializer("w", new float[] { 1, 1, 1, 1 }, 1, 1, 2, 2)
            .Node("ConvTranspose", ["x", "w"], ["y"], ("strides", new long[] { 2, 2 })).Output("y", TensorElementType.Float32).Session();
        Assert.Equal([1f, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], s2.RunFloats(("x", new OnnxTensor<float>([1, 2, 3, 4], [1, 1, 2, 2]))));
        using OnnxSession s1 = new GraphBuilder().Input("x", TensorElementType.Float32, 1, 1, 2, 2).Initializer("w", new float[] { 1, 1, 1, 1 }, 1, 1, 2, 2)
            .Initializer("b", new float[] { 0.5f }, 1).Node("ConvTranspose", ["x", "w", "b"], ["y"]).Output("y", TensorElementType.Float32).Session();
        Assert.Equal([1.5f, 3.5f, 2.5f, 4.5f, 10.5f, 6.5f, 3.5f, 7.5f, 4.5f], s1.RunFloats(("x", new OnnxTensor<float>([1, 2, 3, 4], [1, 1, 2, 2]))));
    }

    [Fact]
    public void DepthwiseConvWithDilationAndAutoPadSameUpper()
    {
        var rng = new Random(4);
        float[] x = Enumerable.Range(0, 2 * 7 * 7).Select(_ => (float)rng.NextDouble()).ToArray();
        float[] w = Enumerable.Range(0, 2 * 9).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        using OnnxSession s = new GraphBuilder().Input("x", TensorElementType.Float32, 1, 2, 7, 7).Initializer("w", w, 2, 1, 3, 3)
            .Node("Conv", ["x", "w"], ["y"], ("group", 2), ("dilations", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }), ("auto_pad", "SAME_UPPER"))
            .Output("y", TensorElementType.Float32).Session();
        OnnxTensor t = s.RunOne(("x", new OnnxTensor<float>(x, [1, 2, 7, 7])));
        Assert.Equal([1, 2, 4, 4], t.Shape);
        float[] y = t.As<float>().ToArray();

        // SAME_UPPER: out = ceil(7/2) = 4, dilated kernel 5, total pad = (4-1)*2 + 5 - 7 = 4 -> 2 before, 2 after.
        for (int c = 0; c < 2; c++)
        {
            for (int oy = 0; oy < 4; oy++)
            {
                for (int ox = 0; ox < 4; ox++)
                {
                    float sum = 0;
                    for (int ky = 0; ky < 3; ky++)
                    {
                        for (int kx = 0; kx < 3; kx++)
                        {
                            int iy = (oy * 2) - 2 + (ky * 2), ix = (ox * 2) - 2 + (kx * 2);
                            if (iy is >= 0 and < 7 && ix is >= 0 and < 7)
                            {
                                sum += x[(c * 49) + (iy * 7) + ix] * w[(c * 9) + (ky * 3) + kx];
                            }
                        }
                    }

                    Assert.Equal(sum, y[(c * 16) + (oy * 4) + ox], 5);
                }
            }
        }
    }

    [Fact]
    public void GemmWithTransposesAndBroadcastBias()
    {
        // A^T with A = [[1,4],[2,5],[3,6]] -> [[1,2,3],[4,5,6]]; B^T with B = [[1,0,1],[0,1,1]] -> columns.
        using OnnxSession s = new GraphBuilder().Input("a", TensorElementType.Float32, 3, 2).Input("b", TensorElementType.Float32, 2, 3)
            .Initializer("c", new float[] { 10, 20 }, 2).Node("Gemm", ["a", "b", "c"], ["y"], ("transA", 1), ("transB", 1), ("alpha", 2f), ("beta", 0.5f))
            .Output("y", TensorElementType.Float32, 2, 2).Session();
        float[] y = s.RunFloats(("a", new OnnxTensor<float>([1, 4, 2, 5, 3, 6], [3, 2])), ("b", new OnnxTensor<float>([1, 0, 1, 0, 1, 1], [2, 3])));

        // A^T B^T = [[1+3, 2+3], [4+6, 5+6]] = [[4,5],[10,11]]; *2 + 0.5*[10,20].
        Assert.Equal([13f, 20, 25, 32], y);
    }

    [Fact]
    public void MatMulBatchedWithConstantAndVariableB()
    {
        float[] a = Enumerable.Range(1, 12).Select(i => (float)i).ToArray();
        float[] b = [1, 0, 0, 1, 1, 1];
        using OnnxSession c = new GraphBuilder().Input("a", TensorElementType.Float32, 2, 2, 3).Initializer("b", b, 3, 2)
            .Node("MatMul", ["a", "b"], ["y"]).Output("y", TensorElementType.Float32).Session();
        float[] e = [4, 5, 10, 11, 16, 17, 22, 23];
        Assert.Equal(e, c.RunFloats(("a", new OnnxTensor<float>(a, [2, 2, 3]))));
        using OnnxSession v = new GraphBuilder().Input("a", TensorElementType.Float32, 2, 2, 3).Input("b", TensorElementType.Float32, 1, 3, 2)
            .Node("MatMul", ["a", "b"], ["y"]).Output("y", TensorElementType.Float32).Session();
        Assert.Equal(e, v.RunFloats(("a", new OnnxTensor<float>(a, [2, 2, 3])), ("b", new OnnxTensor<float>(b, [1, 3, 2]))));
    }

    [Fact]
    public void Normalizations()
    {
        float[] x = [1, 2, 3, 4];
        float inv = 1 / MathF.Sqrt(1.25f);
        float[] e = [-1.5f * inv, -0.5f * inv, 0.5f * inv, 1.5f * inv];
        using OnnxSession ln = new GraphBuilder().Input("x", TensorElementType.Float32, 1, 4).Initializer("s", new float[] { 1, 1, 1, 1 }, 4).Initializer("b", new float[4], 4)
            .Node("LayerNormalization", ["x", "s", "b"], ["y"], ("epsilon", 0f)).Output("y", TensorElementType.Float32).Session();
        float[] y = ln.RunFloats(("x", new OnnxTensor<float>(x, [1, 4])));
        using OnnxSession inn = new GraphBuilder().Input("x", TensorElementType.Float32, 1, 1, 2, 2).Initializer("s", new float[] { 2 }, 1).Initializer("b", new float[] { 1 }, 1)
            .Node("InstanceNormalization", ["x", "s", "b"], ["y"], ("epsilon", 0f)).Output("y", TensorElementType.Float32).Session();
        float[] z = inn.RunFloats(("x", new OnnxTensor<float>(x, [1, 1, 2, 2])));
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(e[i], y[i], 5);
            Assert.Equal((2 * e[i]) + 1, z[i], 5);
        }

        using OnnxSession bn = new GraphBuilder().Input("x", TensorElementType.Float32, 1, 2, 1, 2).Initializer("s", new float[] { 2, 1 }, 2).Initializer("b", new float[] { 1, 0 }, 2)
            .Initializer("m", new float[] { 1, 2 }, 2).Initializer("v", new float[] { 4, 1 }, 2)
            .Node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], ("epsilon", 0f)).Output("y", TensorElementType.Float32).Session();
        Assert.Equal([1f, 2, 1, 2], bn.RunFloats(("x", new OnnxTensor<float>(x, [1, 2, 1, 2]))));
    }

    [Fact]
    public void ReductionsAndArgMax()
    {
        var x = new OnnxTensor<float>([1, 5, 5, 7, 0, 3], [2, 3]);
        using OnnxSession mean = new GraphBuilder(13).Input("x", TensorElementType.Float32, 2, 3).Node("ReduceMean", ["x"], ["y"], ("axes", new long[] { 1 })).Output("y", TensorElementType.Float32).Session();
        OnnxTensor m = mean.RunOne(("x", x));
        Assert.Equal([2, 1], m.Shape);
        Assert.Equal([11f / 3, 10f / 3], m.As<float>().ToArray());
        using OnnxSession sum = new GraphBuilder(13).Input("x", TensorElementType.Float32, 2, 3).Initializer("axes", new long[] { 0 }, 1)
            .Node("ReduceSum", ["x", "axes"], ["y"], ("keepdims", 0)).Output("y", TensorElementType.Float32).Session();
        Assert.Equal([8f, 5, 8], sum.RunFloats(("x", x)));
        using OnnxSession max = new GraphBuilder(13).Input("x", TensorElementType.Float32, 2, 3).Node("ReduceMax", ["x"], ["y"]).Output("y", TensorElementType.Float32).Session();
        OnnxTensor mx = max.RunOne(("x", x));
        Assert.Equal([1, 1], mx.Shape);
        Assert.Equal(7f, mx.As<float>().Span[0]);
        using OnnxSession am = new GraphBuilder(13).Input("x", TensorElementType.Float32, 2, 3).Node("ArgMax", ["x"], ["y"], ("axis", 1), ("keepdims", 0)).Output("y", TensorElementType.Int64).Session();
        Assert.Equal([1L, 0], am.RunOne(("x", x)).As<long>().ToArray());
        using OnnxSession al = new GraphBuilder(13).Input("x", TensorElementType.Float32, 2, 3).Node("ArgMax", ["x"], ["y"], ("axis", 1), ("keepdims", 0), ("select_last_index", 1)).Output("y", TensorElementType.Int64).Session();
        Assert.Equal([2L, 0], al.RunOne(("x", x)).As<long>().ToArray());
    }

    [Fact]
    public void TopKBreaksTiesByIndex()
    {
        using OnnxSession s = new GraphBuilder(11).Input("x", TensorElementType.Float32, 5).Initializer("k", new long[] { 3 }, 1)
            .Node("TopK", ["x", "k"], ["v", "i"]).Output("v", TensorElementType.Float32).Output("i", TensorElementType.Int64).Session();
        var r = s.Run(new Dictionary<string, OnnxTensor> { ["x"] = new OnnxTensor<float>([1, 4, 2, 4, 3], [5]) });
        Assert.Equal([4f, 4, 3], r["v"].As<float>().ToArray());
        Assert.Equal([1L, 3, 4], r["i"].As<long>().ToArray());
        using OnnxSession small = new GraphBuilder(11).Input("x", TensorElementType.Float32, 5).Initializer("k", new long[] { 2 }, 1)
            .Node("TopK", ["x", "k"], ["v", "i"], ("largest", 0)).Output("v", TensorElementType.Float32).Output("i", TensorElementType.Int64).Session();
        Assert.Equal([0L, 2], small.Run(new Dictionary<string, OnnxTensor> { ["x"] = new OnnxTensor<float>([1, 4, 2, 4, 3], [5]) })["i"].As<long>().ToArray());
    }

    [Fact]
    public void NonMaxSuppressionDropsOverlaps()
    {
        float[] boxes = [0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, 2, 1, 3];
        using OnnxSession s = new GraphBuilder(11).Input("b", TensorElementType.Float32, 1, 3, 4).Input("s", TensorElementType.Float32, 1, 1, 3)
            .Initializer("max", new long[] { 3 }, 1).Initializer("iou", new float[] { 0.5f }, 1).Initializer("th", new float[] { 0f }, 1)
            .Node("NonMaxSuppression", ["b", "s", "max", "iou", "th"], ["y"]).Output("y", TensorElementType.Int64).Session();
        for (int call = 0; call < 2; call++)
        {
            OnnxTensor y = s.RunOne(("b", new OnnxTensor<float>(boxes, [1, 3, 4])), ("s", new OnnxTensor<float>([0.9f, 0.8f, 0.7f], [1, 1, 3])));
            Assert.Equal([2, 3], y.Shape);
            Assert.Equal([0L, 0, 0, 0, 0, 2], y.As<long>().ToArray());
        }

        // A different data-dependent output size on the same input shapes.
        OnnxTensor z = s.RunOne(("b", new OnnxTensor<float>(boxes, [1, 3, 4])), ("s", new OnnxTensor<float>([0.9f, 0.8f, -0.7f], [1, 1, 3])));
        Assert.Equal([1, 3], z.Shape);
    }

    [Fact]
    public void ConvIntegerWithRunTimeZeroPointAndPadding()
    {
        byte[] x = [5, 9, 2, 7, 5, 5, 0, 255, 6];
        byte[] w = [1, 2, 3, 4];
        using OnnxSession s = new GraphBuilder(11).Input("x", TensorElementType.UInt8, 1, 1, 3, 3).Input("xz", TensorElementType.UInt8)
            .Initializer("w", w, 1, 1, 2, 2).Initializer("wz", new byte[] { 2 }, [])
            .Node("ConvInteger", ["x", "w", "xz", "wz"], ["y"], ("pads", new long[] { 1, 1, 1, 1 })).Output("y", TensorElementType.Int32).Session();
        int[] y = s.RunOne(("x", new OnnxTensor<byte>(x, [1, 1, 3, 3])), ("xz", new OnnxTensor<byte>([5], []))).As<int>().ToArray();
        Assert.Equal(16, y.Length);
        for (int oy = 0; oy < 4; oy++)
        {
            for (int ox = 0; ox < 4; ox++)
            {
                int acc = 0;
                for (int ky = 0; ky < 2; ky++)
                {
                    for (int kx = 0; kx < 2; kx++)
                    {
                        int iy = oy - 1 + ky, ix = ox - 1 + kx;
                        if (iy is >= 0 and < 3 && ix is >= 0 and < 3)
                        {
                            acc += (x[(iy * 3) + ix] - 5) * (w[(ky * 2) + kx] - 2);
                        }
                    }
                }

                Assert.Equal(acc, y[(oy * 4) + ox]);
            }
        }
    }

    [Fact]
    public void QLinearMatMulRequantizes()
    {
        using OnnxSession s = new GraphBuilder(13).Input("a", TensorElementType.UInt8, 1, 2)
            .Initializer("as", new float[] { 0.5f }, []).Initializer("az", new byte[] { 0 }, [])
            .Initializer("b", new sbyte[] { 2, -4 }, 2, 1).Initializer("bs", new float[] { 0.25f }, []).Initializer("bz", new sbyte[] { 0 }, [])
            .Initializer("ys", new float[] { 0.5f }, []).Initializer("yz", new byte[] { 128 }, [])
            .Node("QLinearMatMul", ["a", "as", "az", "b", "bs", "bz", "ys", "yz"], ["y"]).Output("y", TensorElementType.UInt8).Session();

        // Real: [5, 10] x [0.5, -1] = -7.5 -> -15 + 128.
        Assert.Equal((byte)113, s.RunOne(("a", new OnnxTensor<byte>([10, 20], [1, 2]))).As<byte>().Span[0]);
    }

    [Fact]
    public void CastAndConstantOfShape()
    {
        using OnnxSession c = new GraphBuilder().Input("x", TensorElementType.Float32, 3).Node("Cast", ["x"], ["y"], ("to", (long)TensorElementType.Int32)).Output("y", TensorElementType.Int32).Session();
        Assert.Equal([1, -1, 300], c.RunOne(("x", new OnnxTensor<float>([1.7f, -1.7f, 300], [3]))).As<int>().ToArray());
        var value = new TensorProto { DataType = (int)TensorElementType.Int64, RawData = ByteString.CopyFrom(BitConverter.GetBytes(7L)) };
        value.Dims.Add(1);
        using OnnxSession k = new GraphBuilder().Input("s", TensorElementType.Int64, 2).Node("ConstantOfShape", ["s"], ["y"], ("value", value)).Output("y", TensorElementType.Int64).Session();
        OnnxTensor y = k.RunOne(("s", new OnnxTensor<long>([2, 3], [2])));
        Assert.Equal([2, 3], y.Shape);
        Assert.All(y.As<long>().ToArray(), v => Assert.Equal(7L, v));
    }
}
