using DefectDetection.Onnx.Model.Proto;
using DataType = DefectDetection.Onnx.Model.Proto.TensorProto.Types.DataType;

namespace OnnxConformance;

/// <summary>QuantizeLinear/DequantizeLinear, DynamicQuantizeLinear, the integer operators and a QDQ convolution chain.</summary>
internal static partial class Cases
{
    private static IEnumerable<CaseDef> Quantization()
    {
        yield return new("quantizelinear_u8_per_tensor", 13, c =>
        {
            c.Description = "QuantizeLinear uint8, scale 0.02, zero point 128, inputs beyond the range saturate";
            string y = c.Node("QuantizeLinear", [c.InputF("x", [2, 3, 8], -3, 3), c.Scalar("s", TensorData.F32([0.02f])), c.Scalar("zp", TensorData.U8([128]))]);
            c.Output(y, DataType.Uint8);
        });
        yield return new("quantizelinear_s8_per_tensor", 13, c =>
        {
            string y = c.Node("QuantizeLinear", [c.InputF("x", [2, 3, 8], -3, 3), c.Scalar("s", TensorData.F32([0.015f])), c.Scalar("zp", TensorData.S8([-3]))]);
            c.Output(y, DataType.Int8);
        });
        yield return new("quantizelinear_no_zero_point", 13, c =>
        {
            c.Description = "QuantizeLinear without a zero point defaults to uint8 with zero point 0";
            c.Output(c.Node("QuantizeLinear", [c.InputF("x", [4, 5], -1, 4), c.Scalar("s", TensorData.F32([0.01f]))]), DataType.Uint8);
        });
        yield return new("quantizelinear_ties_to_even", 13, c =>
        {
            c.Description = "QuantizeLinear rounds x/scale half to even";
            c.Output(c.Node("QuantizeLinear", [c.Input("x", TensorData.F32([0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 3.5f, 4.5f, 100.5f], 8)), c.Scalar("s", TensorData.F32([1f])), c.Scalar("zp", TensorData.U8([10]))]), DataType.Uint8);
        });
        yield return new("quantizelinear_per_axis_u8", 13, c =>
        {
            c.Description = "QuantizeLinear per channel (axis 1)";
            string y = c.Node("QuantizeLinear", [c.InputF("x", [2, 4, 3, 3], -2, 2), c.InitF("s", [4], 0.005f, 0.03f), c.Init("zp", TensorData.U8(c.Rng.Bytes(4, 100, 150), 4))], A.I("axis", 1));
            c.Output(y, DataType.Uint8);
        });
        yield return new("quantizelinear_per_axis_s8_axis0", 13, c =>
        {
            string y = c.Node("QuantizeLinear", [c.InputF("x", [3, 5], -2, 2), c.InitF("s", [3], 0.005f, 0.03f), c.Init("zp", TensorData.S8([0, 5, -5], 3))], A.I("axis", 0));
            c.Output(y, DataType.Int8);
        });
        yield return new("quantizelinear_opset10", 10, c =>
            c.Output(c.Node("QuantizeLinear", [c.InputF("x", [2, 6], -2, 2), c.Scalar("s", TensorData.F32([0.02f])), c.Scalar("zp", TensorData.U8([100]))]), DataType.Uint8));
        yield return new("dequantizelinear_u8", 13, c =>
            c.Output(c.Node("DequantizeLinear", [c.Input("x", TensorData.U8(c.Rng.Bytes(24), 2, 3, 4)), c.Scalar("s", TensorData.F32([0.05f])), c.Scalar("zp", TensorData.U8([120]))])));
        yield return new("dequantizelinear_s8", 13, c =>
            c.Output(c.Node("DequantizeLinear", [c.Input("x", TensorData.S8(c.Rng.SBytes(24), 2, 3, 4)), c.Scalar("s", TensorData.F32([0.05f])), c.Scalar("zp", TensorData.S8([-7]))])));
        yield return new("dequantizelinear_per_axis_s8_weights", 13, c =>
        {
            c.Description = "DequantizeLinear of int8 conv weights per output channel (axis 0), zero point 0";
            c.Output(c.Node("DequantizeLinear", [c.Input("w", TensorData.S8(c.Rng.SBytes(4 * 2 * 3 * 3, -127, 127), 4, 2, 3, 3)), c.InitF("s", [4], 0.001f, 0.01f), c.Init("zp", TensorData.S8(new sbyte[4], 4))], A.I("axis", 0)));
        });
        yield return new("dequantizelinear_int32_bias", 13, c =>
        {
            c.Description = "DequantizeLinear of an int32 bias (per-tensor scale, no zero point)";
            c.Output(c.Node("DequantizeLinear", [c.Input("b", TensorData.I32(c.Rng.Ints(8, -100000, 100000), 8)), c.Scalar("s", TensorData.F32([0.0003f]))]));
        });
        yield return new("q_dq_roundtrip", 13, c =>
        {
            c.Description = "QuantizeLinear -> DequantizeLinear (fake quantization)";
            string s = c.Scalar("s", TensorData.F32([0.03f]));
            string zp = c.Scalar("zp", TensorData.U8([128]));
            string q = c.Node("QuantizeLinear", [c.InputF("x", [3, 10], -5, 5), s, zp]);
            c.Output(c.Node("DequantizeLinear", [q, s, zp]));
            c.Tolerance = new Tolerance(Abs: 0.0301, Rel: 0);
        });
        yield return new("dynamicquantizelinear", 11, c =>
        {
            c.Description = "DynamicQuantizeLinear (uint8, scale and zero point from the data range)";
            string[] o = c.NodeN("DynamicQuantizeLinear", string.Empty, [c.InputF("x", [3, 7], -1.5f, 2.5f)], 3);
            c.Output(o[0], DataType.Uint8);
            c.Output(o[1]);
            c.Output(o[2], DataType.Uint8);
        });
        yield return new("dynamicquantizelinear_all_positive", 11, c =>
        {
            c.Description = "DynamicQuantizeLinear where the range is extended to include 0";
            string[] o = c.NodeN("DynamicQuantizeLinear", string.Empty, [c.InputF("x", [2, 9], 0.5f, 3f)], 3);
            c.Output(o[0], DataType.Uint8);
            c.Output(o[1]);
            c.Output(o[2], DataType.Uint8);
        });

        static CaseDef ConvInteger(string name, bool signedW, bool zeroPoints, params AttributeProto[] attrs) =>
            new(name, 10, c =>
            {
                c.Description = $"ConvInteger u8 x {(signedW ? "s8" : "u8")} zero points={zeroPoints}";
                string x = c.Input("x", TensorData.U8(c.Rng.Bytes(1 * 3 * 6 * 6), 1, 3, 6, 6));
                string w = signedW ? c.Init("w", TensorData.S8(c.Rng.SBytes(4 * 3 * 9), 4, 3, 3, 3)) : c.Init("w", TensorData.U8(c.Rng.Bytes(4 * 3 * 9), 4, 3, 3, 3));
                string[] ins = zeroPoints
                    ? [x, w, c.Scalar("xzp", TensorData.U8([117])), signedW ? c.Scalar("wzp", TensorData.S8([3])) : c.Scalar("wzp", TensorData.U8([128]))]
                    : [x, w];
                c.Output(c.Node("ConvInteger", ins, attrs), DataType.Int32);
            });

        yield return ConvInteger("convinteger_u8u8_zero_points", false, true, A.Ints("pads", 1, 1, 1, 1));
        yield return ConvInteger("convinteger_u8u8_no_zero_points", false, false);
        yield return ConvInteger("convinteger_u8s8_stride2", true, true, A.Ints("strides", 2, 2), A.Ints("pads", 1, 1, 1, 1));

        static CaseDef MatMulInteger(string name, int[] a, int[] b, bool signedB, bool zeroPoints) =>
            new(name, 10, c =>
            {
                c.Description = $"MatMulInteger [{string.Join(",", a)}] u8 x [{string.Join(",", b)}] {(signedB ? "s8" : "u8")} zero points={zeroPoints}";
                string ai = c.Input("a", TensorData.U8(c.Rng.Bytes(CaseBuilder.Count(a)), a));
                string bi = signedB ? c.Init("b", TensorData.S8(c.Rng.SBytes(CaseBuilder.Count(b)), b)) : c.Init("b", TensorData.U8(c.Rng.Bytes(CaseBuilder.Count(b)), b));
                string[] ins = zeroPoints
                    ? [ai, bi, c.Scalar("azp", TensorData.U8([131])), signedB ? c.Scalar("bzp", TensorData.S8([-2])) : c.Scalar("bzp", TensorData.U8([127]))]
                    : [ai, bi];
                c.Output(c.Node("MatMulInteger", ins), DataType.Int32);
            });

        yield return MatMulInteger("matmulinteger_u8u8_zero_points", [4, 9], [9, 5], false, true);
        yield return MatMulInteger("matmulinteger_u8s8", [4, 9], [9, 5], true, true);
        yield return MatMulInteger("matmulinteger_batched_no_zp", [2, 3, 9], [9, 6], false, false);
        yield return new("matmulinteger_per_column_b_zero_point", 10, c =>
        {
            c.Description = "MatMulInteger with a per-column B zero point";
            string a = c.Input("a", TensorData.U8(c.Rng.Bytes(12), 3, 4));
            string b = c.Init("b", TensorData.U8(c.Rng.Bytes(20), 4, 5));
            c.Output(c.Node("MatMulInteger", [a, b, c.Scalar("azp", TensorData.U8([100])), c.Init("bzp", TensorData.U8(c.Rng.Bytes(5, 120, 136), 5))]), DataType.Int32);
        });

        static CaseDef QLinearConv(string name, bool signedW, bool perChannel, bool bias, int group, int cin, int cout, params AttributeProto[] attrs) =>
            new(name, 10, c =>
            {
                c.Description = $"QLinearConv u8 x {(signedW ? "s8" : "u8")} weights, {(perChannel ? "per-channel" : "per-tensor")} scale, bias={bias}, group={group}";
                string x = c.Input("x", TensorData.U8(c.Rng.Bytes(cin * 7 * 7), 1, cin, 7, 7));
                int wc = cin / group;
                int wn = cout * wc * 9;
                string w = signedW ? c.Init("w", TensorData.S8(c.Rng.SBytes(wn, -127, 127), cout, wc, 3, 3)) : c.Init("w", TensorData.U8(c.Rng.Bytes(wn), cout, wc, 3, 3));
                float xs = 0.02f;
                float[] ws = perChannel ? c.Rng.Floats(cout, 0.002f, 0.01f) : [0.005f];
                var ins = new List<string>
                {
                    x, c.Scalar("xs", TensorData.F32([xs])), c.Scalar("xzp", TensorData.U8([128])),
                    w, perChannel ? c.Init("ws", TensorData.F32(ws, cout)) : c.Scalar("ws", TensorData.F32(ws)),
                    perChannel ? c.Init("wzp", signedW ? TensorData.S8(new sbyte[cout], cout) : TensorData.U8(Enumerable.Repeat((byte)128, cout).ToArray(), cout))
                               : c.Scalar("wzp", signedW ? TensorData.S8([0]) : TensorData.U8([128])),
                    c.Scalar("ys", TensorData.F32([0.05f])), c.Scalar("yzp", TensorData.U8([100])),
                };
                if (bias)
                {
                    ins.Add(c.Init("b", TensorData.I32(c.Rng.Ints(cout, -2000, 2000), cout)));
                }

                c.Output(c.Node("QLinearConv", [.. ins], attrs), DataType.Uint8);
            });

        yield return QLinearConv("qlinearconv_u8u8_per_tensor", false, false, false, 1, 3, 4, A.Ints("pads", 1, 1, 1, 1));
        yield return QLinearConv("qlinearconv_u8s8_per_channel_bias", true, true, true, 1, 3, 5, A.Ints("pads", 1, 1, 1, 1));
        yield return QLinearConv("qlinearconv_u8s8_stride2", true, true, true, 1, 4, 6, A.Ints("strides", 2, 2), A.Ints("pads", 1, 1, 1, 1));
        yield return QLinearConv("qlinearconv_u8s8_depthwise", true, true, true, 6, 6, 6, A.I("group", 6), A.Ints("pads", 1, 1, 1, 1));

        yield return new("qlinearmatmul_u8u8", 10, c =>
        {
            string a = c.Input("a", TensorData.U8(c.Rng.Bytes(4 * 8), 4, 8));
            string b = c.Init("b", TensorData.U8(c.Rng.Bytes(8 * 5), 8, 5));
            c.Output(c.Node("QLinearMatMul", [a, c.Scalar("as", TensorData.F32([0.02f])), c.Scalar("azp", TensorData.U8([120])), b, c.Scalar("bs", TensorData.F32([0.01f])), c.Scalar("bzp", TensorData.U8([130])), c.Scalar("ys", TensorData.F32([0.1f])), c.Scalar("yzp", TensorData.U8([128]))]), DataType.Uint8);
        });
        yield return new("qlinearmatmul_s8s8", 10, c =>
        {
            string a = c.Input("a", TensorData.S8(c.Rng.SBytes(4 * 8), 4, 8));
            string b = c.Init("b", TensorData.S8(c.Rng.SBytes(8 * 5), 8, 5));
            c.Output(c.Node("QLinearMatMul", [a, c.Scalar("as", TensorData.F32([0.02f])), c.Scalar("azp", TensorData.S8([-3])), b, c.Scalar("bs", TensorData.F32([0.01f])), c.Scalar("bzp", TensorData.S8([0])), c.Scalar("ys", TensorData.F32([0.1f])), c.Scalar("yzp", TensorData.S8([5]))]), DataType.Int8);
        });

        yield return new("qlinearadd_com_microsoft_broadcast", 13, c =>
        {
            c.Description = "com.microsoft QLinearAdd (uint8) with a per-channel broadcast second operand";
            c.ImportOpset("com.microsoft", 1);
            string a = c.Input("a", TensorData.U8(c.Rng.Bytes(2 * 3 * 4 * 4), 2, 3, 4, 4));
            string b = c.Input("b", TensorData.U8(c.Rng.Bytes(3), 3, 1, 1));
            c.Output(c.NodeN("QLinearAdd", "com.microsoft", [a, c.Scalar("as", TensorData.F32([0.02f])), c.Scalar("azp", TensorData.U8([120])), b, c.Scalar("bs", TensorData.F32([0.03f])), c.Scalar("bzp", TensorData.U8([130])), c.Scalar("cs", TensorData.F32([0.04f])), c.Scalar("czp", TensorData.U8([128]))], 1)[0], DataType.Uint8);
        });
        yield return new("qlinearadd_com_microsoft_s8", 13, c =>
        {
            c.Description = "com.microsoft QLinearAdd (int8), same shapes";
            c.ImportOpset("com.microsoft", 1);
            string a = c.Input("a", TensorData.S8(c.Rng.SBytes(24), 2, 12));
            string b = c.Input("b", TensorData.S8(c.Rng.SBytes(24), 2, 12));
            c.Output(c.NodeN("QLinearAdd", "com.microsoft", [a, c.Scalar("as", TensorData.F32([0.02f])), c.Scalar("azp", TensorData.S8([-5])), b, c.Scalar("bs", TensorData.F32([0.03f])), c.Scalar("bzp", TensorData.S8([3])), c.Scalar("cs", TensorData.F32([0.04f])), c.Scalar("czp", TensorData.S8([0]))], 1)[0], DataType.Int8);
        });
        yield return new("qgemm_com_microsoft_u8s8_transB_bias", 13, c =>
        {
            c.Description = "com.microsoft QGemm: uint8 A, int8 B (transB), int32 bias, uint8 output";
            c.ImportOpset("com.microsoft", 1);
            string a = c.Input("a", TensorData.U8(c.Rng.Bytes(3 * 16), 3, 16));
            string b = c.Init("b", TensorData.S8(c.Rng.SBytes(5 * 16, -127, 127), 5, 16));
            c.Output(c.NodeN("QGemm", "com.microsoft", [a, c.Scalar("as", TensorData.F32([0.02f])), c.Scalar("azp", TensorData.U8([128])), b, c.Scalar("bs", TensorData.F32([0.01f])), c.Scalar("bzp", TensorData.S8([0])), c.Init("c", TensorData.I32(c.Rng.Ints(5, -500, 500), 5)), c.Scalar("ys", TensorData.F32([0.05f])), c.Scalar("yzp", TensorData.U8([128]))], 1, A.I("transB", 1))[0], DataType.Uint8);
        });
        yield return new("qgemm_com_microsoft_float_output", 13, c =>
        {
            c.Description = "com.microsoft QGemm without y_scale: float output (alpha 0.5)";
            c.ImportOpset("com.microsoft", 1);
            string a = c.Input("a", TensorData.U8(c.Rng.Bytes(4 * 8), 4, 8));
            string b = c.Init("b", TensorData.S8(c.Rng.SBytes(8 * 6, -127, 127), 8, 6));
            c.Output(c.NodeN("QGemm", "com.microsoft", [a, c.Scalar("as", TensorData.F32([0.02f])), c.Scalar("azp", TensorData.U8([100])), b, c.Scalar("bs", TensorData.F32([0.01f])), c.Scalar("bzp", TensorData.S8([0]))], 1, A.F("alpha", 0.5f))[0]);
        });

        yield return new("dynamic_quant_conv_matmul_chain", 13, c =>
        {
            c.Description = "Dynamic quantization as in mobilenetv2-int8-dynamic: DynamicQuantizeLinear -> ConvInteger -> Cast -> Mul(scales) -> Add(bias) -> Clip, then DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul -> Add";
            string x = c.InputF("x", [1, 3, 6, 6], -1, 1);
            string[] q = c.NodeN("DynamicQuantizeLinear", string.Empty, [x], 3);
            string w = c.Init("w", TensorData.S8(c.Rng.SBytes(4 * 3 * 9, -127, 127), 4, 3, 3, 3));
            string acc = c.Node("ConvInteger", [q[0], w, q[2], c.Scalar("wzp", TensorData.S8([0]))], A.Ints("pads", 1, 1, 1, 1));
            string f = c.Node("Cast", [acc], A.I("to", (long)DataType.Float));
            string scale = c.Node("Mul", [q[1], c.Scalar("wscale", TensorData.F32([0.004f]))]);
            string y = c.Node("Add", [c.Node("Mul", [f, scale]), c.InitF("bias", [4, 1, 1], -0.1f, 0.1f)]);
            y = c.Node("Clip", [y, c.Scalar("lo", TensorData.F32([0f])), c.Scalar("hi", TensorData.F32([6f]))]);
            string flat = c.Node("Reshape", [y, c.InitI64("shape", 1, -1)]);
            string[] q2 = c.NodeN("DynamicQuantizeLinear", string.Empty, [flat], 3);
            string w2 = c.Init("w2", TensorData.S8(c.Rng.SBytes(144 * 5, -127, 127), 144, 5));
            string acc2 = c.Node("MatMulInteger", [q2[0], w2, q2[2], c.Scalar("w2zp", TensorData.S8([0]))]);
            string f2 = c.Node("Cast", [acc2], A.I("to", (long)DataType.Float));
            string out2 = c.Node("Add", [c.Node("Mul", [f2, c.Node("Mul", [q2[1], c.Scalar("w2scale", TensorData.F32([0.002f]))])]), c.InitF("bias2", [5], -0.1f, 0.1f)]);
            c.Output(out2);

            // A float output: allow an intermediate uint8 to be one step off (about 0.0025 here).
            c.Tolerance = new Tolerance(Abs: 5e-3, Rel: 1e-3);
        });

        yield return new("qdq_conv_chain", 13, QdqConvChain);
        yield return new("qdq_conv_chain_s8_activations", 13, c => QdqConvChain(c, signedActivations: true));
    }

    /// <summary>
    /// A QDQ-format network like the quantized MobileNetV2: Q/DQ around two convolutions (the second depthwise, ReLU6
    /// carried by the quantization range), a residual Add, global average pooling and a Gemm head.
    /// </summary>
    private static void QdqConvChain(CaseBuilder c) => QdqConvChain(c, signedActivations: false);

    private static void QdqConvChain(CaseBuilder c, bool signedActivations)
    {
        c.Description = $"QDQ chain: Q/DQ -> Conv -> Q/DQ -> depthwise Conv -> Q/DQ -> Add (residual) -> Q/DQ -> GlobalAveragePool -> Flatten -> Gemm ({(signedActivations ? "int8" : "uint8")} activations)";
        Rng r = c.Rng;
        TensorData Zp(int u8) => signedActivations ? TensorData.S8([(sbyte)(u8 - 128)]) : TensorData.U8([(byte)u8]);
        int n = 0;
        (string Q, string Dq) QDq(string x, float scale, int zp)
        {
            n++;
            string s = c.Scalar($"act_scale_{n}", TensorData.F32([scale]));
            string z = c.Scalar($"act_zp_{n}", Zp(zp));
            string q = c.Node("QuantizeLinear", [x, s, z]);
            return (q, c.Node("DequantizeLinear", [q, s, z]));
        }

        string DqWeights(string name, int[] shape, float maxScale)
        {
            int m = shape[0];
            string w = c.Init(name, TensorData.S8(r.SBytes(CaseBuilder.Count(shape), -127, 127), shape));
            string s = c.Init(name + "_scale", TensorData.F32(r.Floats(m, maxScale / 4, maxScale), m));
            string z = c.Init(name + "_zp", TensorData.S8(new sbyte[m], m));
            return c.Node("DequantizeLinear", [w, s, z], A.I("axis", 0));
        }

        string DqBias(string name, int m)
        {
            string b = c.Init(name, TensorData.I32(r.Ints(m, -3000, 3000), m));
            return c.Node("DequantizeLinear", [b, c.Scalar(name + "_scale", TensorData.F32([0.0001f]))]);
        }

        string x = c.InputF("x", [1, 4, 8, 8], -1, 1);
        (_, string x0) = QDq(x, 2f / 255, 128);
        string conv1 = c.Node("Conv", [x0, DqWeights("w1", [8, 4, 3, 3], 0.006f), DqBias("b1", 8)], A.Ints("pads", 1, 1, 1, 1));
        (_, string a1) = QDq(conv1, 6f / 255, 0); // ReLU6 through the range [0, 6]
        string conv2 = c.Node("Conv", [a1, DqWeights("w2", [8, 1, 3, 3], 0.006f), DqBias("b2", 8)], A.I("group", 8), A.Ints("pads", 1, 1, 1, 1));
        (_, string a2) = QDq(conv2, 0.04f, 128);
        string conv3 = c.Node("Conv", [a2, DqWeights("w3", [8, 8, 1, 1], 0.005f), DqBias("b3", 8)]);
        (_, string a3) = QDq(conv3, 0.04f, 128);
        string add = c.Node("Add", [a3, a1]);
        (_, string a4) = QDq(add, 0.05f, 128);
        string gap = c.Node("GlobalAveragePool", [a4]);
        (_, string a5) = QDq(gap, 0.02f, 128);
        string flat = c.Node("Flatten", [a5]);
        string gemmW = c.Init("fc_w", TensorData.S8(r.SBytes(10 * 8, -127, 127), 10, 8));
        string fcW = c.Node("DequantizeLinear", [gemmW, c.Scalar("fc_w_scale", TensorData.F32([0.01f])), c.Scalar("fc_w_zp", TensorData.S8([0]))]);
        string logits = c.Node("Gemm", [flat, fcW, DqBias("fc_b", 10)], A.I("transB", 1));
        (string q6, _) = QDq(logits, 0.03f, 128);
        c.Output(q6, signedActivations ? DataType.Int8 : DataType.Uint8);
    }

    private static IEnumerable<CaseDef> Networks()
    {
        yield return new("net_conv_bn_relu_residual", 13, c =>
        {
            c.Description = "Conv+BN+Relu, Conv+BN, residual Add, Relu, MaxPool, GlobalAveragePool, Flatten, Gemm (a tiny ResNet block; fusion targets)";
            string x = c.InputF("x", [2, 8, 10, 10]);
            string h = ResNet18.ConvBn(c, x, 8, 8, 3, 1, "a");
            h = c.Node("Relu", [h]);
            h = ResNet18.ConvBn(c, h, 8, 8, 3, 1, "b");
            h = c.Node("Relu", [c.Node("Add", [h, x])]);
            h = c.Node("MaxPool", [h], A.Ints("kernel_shape", 3, 3), A.Ints("strides", 2, 2), A.Ints("pads", 1, 1, 1, 1));
            h = c.Node("Flatten", [c.Node("GlobalAveragePool", [h])]);
            c.Output(c.Node("Gemm", [h, c.InitF("fc_w", [5, 8], -0.3f, 0.3f), c.InitF("fc_b", [5])], A.I("transB", 1)));
        });
        yield return new("net_conv_clip_relu6_sigmoid_mul", 13, c =>
        {
            c.Description = "Conv -> Clip(0,6) and Conv -> Sigmoid * x (SiLU), activation fusion targets";
            string x = c.InputF("x", [1, 4, 6, 6]);
            string a = c.Node("Conv", [x, c.InitF("w1", [4, 4, 3, 3], -0.5f, 0.5f), c.InitF("b1", [4])], A.Ints("pads", 1, 1, 1, 1));
            a = c.Node("Clip", [a, c.Scalar("lo", TensorData.F32([0f])), c.Scalar("hi", TensorData.F32([6f]))]);
            string b = c.Node("Conv", [a, c.InitF("w2", [4, 1, 3, 3], -0.5f, 0.5f), c.InitF("b2", [4])], A.I("group", 4), A.Ints("pads", 1, 1, 1, 1));
            b = c.Node("Mul", [b, c.Node("Sigmoid", [b])]);
            c.Output(b);
            c.Output(a);
        });
        yield return new("net_yolox_head_like", 11, c =>
        {
            c.Description = "Slice-based focus, Conv+Sigmoid*x, nearest Resize x2 (opset 11), Concat, Reshape, Transpose (YOLOX-nano pattern)";
            string x = c.InputF("x", [1, 3, 8, 8]);
            string S(string t, long h0, long w0) =>
                c.Node("Slice", [t, c.InitI64($"st_{h0}{w0}", h0, w0), c.InitI64($"en_{h0}{w0}", long.MaxValue, long.MaxValue), c.InitI64($"ax_{h0}{w0}", 2, 3), c.InitI64($"sp_{h0}{w0}", 2, 2)]);
            string focus = c.Node("Concat", [S(x, 0, 0), S(x, 1, 0), S(x, 0, 1), S(x, 1, 1)], A.I("axis", 1));
            string f = c.Node("Conv", [focus, c.InitF("w", [6, 12, 3, 3], -0.3f, 0.3f), c.InitF("b", [6])], A.Ints("pads", 1, 1, 1, 1));
            f = c.Node("Mul", [f, c.Node("Sigmoid", [f])]);
            string up = c.Node("Resize", [f, c.Init("roi", TensorData.F32([], 0)), c.InitF1("scales", 1, 1, 2, 2)], A.S("mode", "nearest"));
            string cat = c.Node("Concat", [up, c.Node("Conv", [x, c.InitF("w2", [2, 3, 1, 1]), c.InitF("b2", [2])])], A.I("axis", 1));
            string r = c.Node("Reshape", [cat, c.InitI64("shape", 1, 8, -1)]);
            c.Output(c.Node("Transpose", [r], A.Ints("perm", 0, 2, 1)));
        });
    }

    /// <summary>Every case, in a stable order.</summary>
    public static IEnumerable<CaseDef> All() =>
        Conv().Concat(GemmAndMatMul()).Concat(Elementwise()).Concat(Pooling()).Concat(Normalization()).Concat(Resize())
            .Concat(Reductions()).Concat(ShapeOps()).Concat(Misc()).Concat(Quantization()).Concat(Networks());
}
