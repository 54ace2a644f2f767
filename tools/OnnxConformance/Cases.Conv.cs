namespace OnnxConformance;

/// <summary>Convolution, transposed convolution, Gemm and MatMul cases.</summary>
internal static partial class Cases
{
    private static IEnumerable<CaseDef> Conv()
    {
        static CaseDef C(string name, int[] x, int[] w, bool bias, int opset, params DefectDetection.Onnx.Model.Proto.AttributeProto[] attrs) =>
            new(name, opset, c =>
            {
                string xi = c.InputF("x", x);
                float s = 1f / MathF.Sqrt(w[1] * (w.Length > 2 ? w[2] : 1) * (w.Length > 3 ? w[3] : 1));
                string wi = c.InitF("w", w, -s, s);
                string[] ins = bias ? [xi, wi, c.InitF("b", [w[0]])] : [xi, wi];
                c.Output(c.Node("Conv", ins, attrs));
                c.Description = $"Conv x[{string.Join(",", x)}] w[{string.Join(",", w)}] bias={bias}";
            });

        yield return C("conv_basic", [1, 3, 7, 7], [4, 3, 3, 3], true, 13, A.Ints("kernel_shape", 3, 3));
        yield return C("conv_no_kernel_shape_attr", [1, 3, 6, 6], [4, 3, 3, 3], true, 13);
        yield return C("conv_pads", [1, 3, 7, 7], [4, 3, 3, 3], false, 13, A.Ints("pads", 1, 1, 1, 1));
        yield return C("conv_asymmetric_pads", [1, 3, 7, 6], [4, 3, 3, 3], true, 13, A.Ints("pads", 0, 1, 2, 1));
        yield return C("conv_stride2", [1, 3, 9, 9], [5, 3, 3, 3], true, 13, A.Ints("strides", 2, 2), A.Ints("pads", 1, 1, 1, 1));
        yield return C("conv_stride_rect", [1, 2, 9, 10], [3, 2, 3, 3], true, 13, A.Ints("strides", 2, 3));
        yield return C("conv_dilation2", [1, 3, 9, 9], [4, 3, 3, 3], true, 13, A.Ints("dilations", 2, 2), A.Ints("pads", 2, 2, 2, 2));
        yield return C("conv_dilation_stride", [1, 2, 11, 11], [3, 2, 3, 3], true, 13, A.Ints("dilations", 2, 1), A.Ints("strides", 2, 2), A.Ints("pads", 1, 0, 1, 1));
        yield return C("conv_groups2", [1, 4, 7, 7], [6, 2, 3, 3], true, 13, A.I("group", 2), A.Ints("pads", 1, 1, 1, 1));
        yield return C("conv_depthwise", [1, 8, 7, 7], [8, 1, 3, 3], true, 13, A.I("group", 8), A.Ints("pads", 1, 1, 1, 1));
        yield return C("conv_depthwise_stride2", [1, 8, 9, 9], [8, 1, 3, 3], true, 13, A.I("group", 8), A.Ints("strides", 2, 2), A.Ints("pads", 1, 1, 1, 1));
        yield return C("conv_depthwise_multiplier2", [1, 4, 7, 7], [8, 1, 3, 3], false, 13, A.I("group", 4), A.Ints("pads", 1, 1, 1, 1));
        yield return C("conv_depthwise_5x5_dilation", [1, 6, 12, 12], [6, 1, 5, 5], true, 13, A.I("group", 6), A.Ints("pads", 4, 4, 4, 4), A.Ints("dilations", 2, 2));
        yield return C("conv_autopad_same_upper", [1, 3, 7, 7], [4, 3, 3, 3], true, 13, A.S("auto_pad", "SAME_UPPER"), A.Ints("strides", 2, 2));
        yield return C("conv_autopad_same_lower", [1, 3, 8, 8], [4, 3, 4, 4], true, 13, A.S("auto_pad", "SAME_LOWER"), A.Ints("strides", 2, 2));
        yield return C("conv_autopad_valid", [1, 3, 8, 7], [4, 3, 3, 3], true, 13, A.S("auto_pad", "VALID"), A.Ints("strides", 2, 2));
        yield return C("conv_1x1", [1, 16, 5, 5], [8, 16, 1, 1], true, 13);
        yield return C("conv_1x1_stride2", [1, 8, 6, 6], [12, 8, 1, 1], false, 13, A.Ints("strides", 2, 2));
        yield return C("conv_kernel_3x5", [1, 2, 8, 9], [3, 2, 3, 5], true, 13, A.Ints("pads", 1, 2, 1, 2));
        yield return C("conv_7x7_stride2", [1, 3, 16, 16], [4, 3, 7, 7], true, 13, A.Ints("strides", 2, 2), A.Ints("pads", 3, 3, 3, 3));
        yield return C("conv_batch3", [3, 3, 6, 6], [4, 3, 3, 3], true, 13, A.Ints("pads", 1, 1, 1, 1));
        yield return C("conv_wide_channels", [1, 32, 8, 8], [40, 32, 3, 3], true, 13, A.Ints("pads", 1, 1, 1, 1));
        yield return C("conv_1d", [1, 3, 12], [4, 3, 3], true, 13, A.Ints("pads", 1, 1), A.Ints("strides", 2));
        yield return C("conv_opset11", [1, 3, 7, 7], [4, 3, 3, 3], true, 11, A.Ints("pads", 1, 1, 1, 1));
        yield return C("conv_opset7", [1, 3, 7, 7], [4, 3, 3, 3], true, 7, A.Ints("pads", 1, 1, 1, 1));

        yield return new("conv_weights_as_input", 13, c =>
        {
            c.Description = "Conv whose weights and bias are runtime inputs (no prepacking possible)";
            string x = c.InputF("x", [1, 3, 6, 6]);
            string w = c.InputF("w", [4, 3, 3, 3], -0.3f, 0.3f);
            string b = c.InputF("b", [4]);
            c.Output(c.Node("Conv", [x, w, b], A.Ints("pads", 1, 1, 1, 1)));
        });
        yield return new("conv_dynamic_batch", 13, c =>
        {
            c.Description = "Conv with a symbolic batch dimension, fed batch 2";
            string x = c.Input("x", TensorData.F32(c.Rng.Floats(2 * 3 * 6 * 6), 2, 3, 6, 6), "batch");
            c.Output(c.Node("Conv", [x, c.InitF("w", [4, 3, 3, 3], -0.3f, 0.3f), c.InitF("b", [4])], A.Ints("pads", 1, 1, 1, 1)));
        });

        foreach ((string name, int outC, int k, int stride, int[] pads, int[] outPad, int group, int[] dil, int[]? outShape, string? autoPad) in new (string, int, int, int, int[], int[], int, int[], int[]?, string?)[]
        {
            ("convtranspose_basic", 4, 3, 1, [0, 0, 0, 0], [0, 0], 1, [1, 1], null, null),
            ("convtranspose_stride2", 4, 3, 2, [0, 0, 0, 0], [0, 0], 1, [1, 1], null, null),
            ("convtranspose_stride2_pads", 3, 3, 2, [1, 1, 1, 1], [0, 0], 1, [1, 1], null, null),
            ("convtranspose_output_padding", 3, 3, 2, [1, 1, 1, 1], [1, 1], 1, [1, 1], null, null),
            ("convtranspose_kernel4_stride2", 2, 4, 2, [1, 1, 1, 1], [0, 0], 1, [1, 1], null, null),
            ("convtranspose_groups2", 4, 3, 1, [1, 1, 1, 1], [0, 0], 2, [1, 1], null, null),
            ("convtranspose_dilation2", 3, 3, 1, [0, 0, 0, 0], [0, 0], 1, [2, 2], null, null),
            ("convtranspose_output_shape", 3, 3, 2, [0, 0, 0, 0], [0, 0], 1, [1, 1], [11, 12], null),
            ("convtranspose_autopad_same_upper", 3, 3, 2, [0, 0, 0, 0], [0, 0], 1, [1, 1], null, "SAME_UPPER"),
        })
        {
            yield return new(name, 13, c =>
            {
                c.Description = "ConvTranspose";
                int inC = 4;
                string x = c.InputF("x", [1, inC, 5, 6]);
                string w = c.InitF("w", [inC, outC / group, k, k], -0.4f, 0.4f);
                string b = c.InitF("b", [outC]);
                var attrs = new List<DefectDetection.Onnx.Model.Proto.AttributeProto> { A.Ints("strides", stride, stride), A.Ints("dilations", dil[0], dil[1]) };
                if (group != 1)
                {
                    attrs.Add(A.I("group", group));
                }

                if (outShape is not null)
                {
                    attrs.Add(A.Ints("output_shape", outShape[0], outShape[1]));
                }
                else if (autoPad is not null)
                {
                    attrs.Add(A.S("auto_pad", autoPad));
                }
                else
                {
                    attrs.Add(A.Ints("pads", pads.Select(p => (long)p).ToArray()));
                    attrs.Add(A.Ints("output_padding", outPad[0], outPad[1]));
                }

                c.Output(c.Node("ConvTranspose", [x, w, b], [.. attrs]));
            });
        }
    }

    private static IEnumerable<CaseDef> GemmAndMatMul()
    {
        static CaseDef G(string name, bool transA, bool transB, float alpha, float beta, int[]? cShape, bool bInput = false, int m = 4, int k = 5, int n = 3) =>
            new(name, 13, c =>
            {
                c.Description = $"Gemm M={m} K={k} N={n} transA={transA} transB={transB} alpha={alpha} beta={beta} C={(cShape is null ? "none" : "[" + string.Join(",", cShape) + "]")}";
                string a = c.InputF("a", transA ? [k, m] : [m, k]);
                int[] bShape = transB ? [n, k] : [k, n];
                string b = bInput ? c.InputF("b", bShape) : c.InitF("b", bShape);
                var ins = new List<string> { a, b };
                if (cShape is not null)
                {
                    ins.Add(c.InitF("c", cShape));
                }

                var attrs = new List<DefectDetection.Onnx.Model.Proto.AttributeProto>();
                if (transA)
                {
                    attrs.Add(A.I("transA", 1));
                }

                if (transB)
                {
                    attrs.Add(A.I("transB", 1));
                }

                if (alpha != 1f)
                {
                    attrs.Add(A.F("alpha", alpha));
                }

                if (beta != 1f)
                {
                    attrs.Add(A.F("beta", beta));
                }

                c.Output(c.Node("Gemm", [.. ins], [.. attrs]));
            });

        yield return G("gemm_basic", false, false, 1f, 1f, null);
        yield return G("gemm_transA", true, false, 1f, 1f, [3]);
        yield return G("gemm_transB", false, true, 1f, 1f, [3]);
        yield return G("gemm_transA_transB", true, true, 1f, 1f, [4, 3]);
        yield return G("gemm_alpha_beta", false, false, 0.5f, 2f, [3]);
        yield return G("gemm_c_row", false, true, 1f, 0.7f, [1, 3]);
        yield return G("gemm_c_column", false, false, 1.5f, 1f, [4, 1]);
        yield return G("gemm_c_full", false, false, 1f, -1f, [4, 3]);
        yield return G("gemm_c_scalar", false, false, 1f, 1f, [1]);
        yield return G("gemm_b_input", false, true, 1f, 1f, [3], bInput: true);
        yield return G("gemm_large_transB", false, true, 1f, 1f, [33], m: 9, k: 70, n: 33);
        yield return G("gemm_classifier_shape", false, true, 1f, 1f, [100], m: 2, k: 64, n: 100);

        static CaseDef M(string name, int[] a, int[] b, bool bConst) =>
            new(name, 13, c =>
            {
                c.Description = $"MatMul [{string.Join(",", a)}] x [{string.Join(",", b)}]";
                string ai = c.InputF("a", a);
                string bi = bConst ? c.InitF("b", b) : c.InputF("b", b);
                c.Output(c.Node("MatMul", [ai, bi]));
            });

        yield return M("matmul_2d", [3, 4], [4, 5], true);
        yield return M("matmul_2d_inputs", [3, 4], [4, 5], false);
        yield return M("matmul_batched", [2, 3, 4], [2, 4, 5], false);
        yield return M("matmul_broadcast_b", [2, 3, 4], [4, 5], true);
        yield return M("matmul_broadcast_a", [3, 4], [2, 4, 5], false);
        yield return M("matmul_broadcast_4d", [2, 1, 3, 4], [3, 4, 5], false);
        yield return M("matmul_vector_left", [4], [4, 5], true);
        yield return M("matmul_vector_right", [3, 4], [4], false);
        yield return M("matmul_vector_batched", [2, 3, 4], [4], false);
        yield return M("matmul_large", [17, 40], [40, 33], true);
        yield return M("matmul_opset9", [3, 4], [4, 5], true) with { Opset = 9 };
    }
}
