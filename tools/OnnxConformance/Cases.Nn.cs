using DefectDetection.Onnx.Model.Proto;
using DataType = DefectDetection.Onnx.Model.Proto.TensorProto.Types.DataType;

namespace OnnxConformance;

/// <summary>Pooling, normalisation, Resize, reductions and ArgMax/ArgMin.</summary>
internal static partial class Cases
{
    private static IEnumerable<CaseDef> Pooling()
    {
        static CaseDef P(string name, string op, int[] x, int opset, params AttributeProto[] attrs) =>
            new(name, opset, c =>
            {
                c.Description = $"{op} on [{string.Join(",", x)}]";
                c.Output(c.Node(op, [c.InputF("x", x, -2, 2)], attrs));
            });

        yield return P("maxpool_2x2_stride2", "MaxPool", [1, 3, 8, 8], 12, A.Ints("kernel_shape", 2, 2), A.Ints("strides", 2, 2));
        yield return P("maxpool_3x3_stride2_pads", "MaxPool", [1, 3, 9, 9], 12, A.Ints("kernel_shape", 3, 3), A.Ints("strides", 2, 2), A.Ints("pads", 1, 1, 1, 1));
        yield return P("maxpool_3x3_stride1_same", "MaxPool", [1, 2, 7, 7], 12, A.Ints("kernel_shape", 3, 3), A.Ints("pads", 1, 1, 1, 1));
        yield return P("maxpool_5x5_stride1_same", "MaxPool", [1, 2, 9, 9], 12, A.Ints("kernel_shape", 5, 5), A.Ints("pads", 2, 2, 2, 2));
        yield return P("maxpool_ceil_mode", "MaxPool", [1, 2, 8, 8], 12, A.Ints("kernel_shape", 3, 3), A.Ints("strides", 2, 2), A.I("ceil_mode", 1));
        yield return P("maxpool_ceil_mode_pads", "MaxPool", [1, 2, 9, 10], 12, A.Ints("kernel_shape", 2, 2), A.Ints("strides", 2, 2), A.Ints("pads", 1, 0, 1, 0), A.I("ceil_mode", 1));
        yield return P("maxpool_dilations", "MaxPool", [1, 2, 9, 9], 12, A.Ints("kernel_shape", 2, 2), A.Ints("dilations", 2, 2));
        yield return P("maxpool_asymmetric_pads", "MaxPool", [1, 2, 7, 8], 12, A.Ints("kernel_shape", 3, 3), A.Ints("strides", 2, 2), A.Ints("pads", 0, 1, 2, 1));
        yield return P("maxpool_autopad_same_upper", "MaxPool", [1, 2, 7, 7], 12, A.Ints("kernel_shape", 2, 2), A.Ints("strides", 2, 2), A.S("auto_pad", "SAME_UPPER"));
        yield return P("maxpool_autopad_same_lower", "MaxPool", [1, 2, 7, 7], 12, A.Ints("kernel_shape", 2, 2), A.Ints("strides", 2, 2), A.S("auto_pad", "SAME_LOWER"));
        yield return P("maxpool_1d", "MaxPool", [1, 3, 11], 12, A.Ints("kernel_shape", 3), A.Ints("strides", 2));
        yield return P("maxpool_opset8", "MaxPool", [1, 3, 8, 8], 8, A.Ints("kernel_shape", 2, 2), A.Ints("strides", 2, 2));
        yield return new("maxpool_with_indices", 12, c =>
        {
            c.Description = "MaxPool with its second output (flat NCHW indices of the maxima)";
            string[] o = c.NodeN("MaxPool", string.Empty, [c.InputF("x", [2, 2, 6, 6])], 2, A.Ints("kernel_shape", 2, 2), A.Ints("strides", 2, 2));
            c.Output(o[0]);
            c.Output(o[1], DataType.Int64);
        });
        yield return P("averagepool_2x2_stride2", "AveragePool", [1, 3, 8, 8], 11, A.Ints("kernel_shape", 2, 2), A.Ints("strides", 2, 2));
        yield return P("averagepool_pads_exclude", "AveragePool", [1, 3, 7, 7], 11, A.Ints("kernel_shape", 3, 3), A.Ints("pads", 1, 1, 1, 1));
        yield return P("averagepool_pads_include", "AveragePool", [1, 3, 7, 7], 11, A.Ints("kernel_shape", 3, 3), A.Ints("pads", 1, 1, 1, 1), A.I("count_include_pad", 1));
        yield return P("averagepool_ceil_mode", "AveragePool", [1, 2, 8, 8], 11, A.Ints("kernel_shape", 3, 3), A.Ints("strides", 2, 2), A.I("ceil_mode", 1));
        yield return P("averagepool_ceil_mode_include_pad", "AveragePool", [1, 2, 9, 9], 11, A.Ints("kernel_shape", 3, 3), A.Ints("strides", 2, 2), A.Ints("pads", 1, 1, 1, 1), A.I("ceil_mode", 1), A.I("count_include_pad", 1));
        yield return P("averagepool_autopad_same_upper", "AveragePool", [1, 2, 7, 7], 11, A.Ints("kernel_shape", 3, 3), A.Ints("strides", 2, 2), A.S("auto_pad", "SAME_UPPER"));
        yield return P("averagepool_asymmetric_pads", "AveragePool", [1, 2, 6, 7], 11, A.Ints("kernel_shape", 3, 2), A.Ints("pads", 1, 0, 0, 1));
        yield return P("averagepool_dilations_opset19", "AveragePool", [1, 2, 9, 9], 19, A.Ints("kernel_shape", 2, 2), A.Ints("dilations", 2, 2));
        yield return P("globalaveragepool", "GlobalAveragePool", [2, 5, 4, 3], 13);
        yield return P("globalaveragepool_1x1", "GlobalAveragePool", [1, 7, 1, 1], 13);
        yield return P("globalmaxpool", "GlobalMaxPool", [2, 5, 4, 3], 13);
    }

    private static IEnumerable<CaseDef> Normalization()
    {
        yield return new("batchnorm_inference", 15, c =>
        {
            c.Description = "BatchNormalization (inference) with epsilon";
            string x = c.InputF("x", [2, 4, 3, 3], -2, 2);
            c.Output(c.Node("BatchNormalization", [x, c.InitF("scale", [4], 0.5f, 1.5f), c.InitF("bias", [4]), c.InitF("mean", [4], -0.5f, 0.5f), c.InitF("var", [4], 0.2f, 2f)], A.F("epsilon", 1e-3f)));
        });
        yield return new("batchnorm_opset9", 9, c =>
        {
            string x = c.InputF("x", [1, 3, 4, 4], -2, 2);
            c.Output(c.Node("BatchNormalization", [x, c.InitF("scale", [3], 0.5f, 1.5f), c.InitF("bias", [3]), c.InitF("mean", [3], -0.5f, 0.5f), c.InitF("var", [3], 0.2f, 2f)]));
        });
        yield return new("batchnorm_2d_input", 15, c =>
        {
            c.Description = "BatchNormalization on [N,C]";
            string x = c.InputF("x", [5, 4], -2, 2);
            c.Output(c.Node("BatchNormalization", [x, c.InitF("scale", [4], 0.5f, 1.5f), c.InitF("bias", [4]), c.InitF("mean", [4], -0.5f, 0.5f), c.InitF("var", [4], 0.2f, 2f)]));
        });
        yield return new("instancenorm", 13, c =>
        {
            string x = c.InputF("x", [2, 3, 4, 5], -2, 2);
            c.Output(c.Node("InstanceNormalization", [x, c.InitF("scale", [3], 0.5f, 1.5f), c.InitF("bias", [3])], A.F("epsilon", 1e-5f)));
        });
        yield return new("layernorm_last_axis", 17, c =>
        {
            string x = c.InputF("x", [2, 3, 8], -2, 2);
            c.Output(c.Node("LayerNormalization", [x, c.InitF("scale", [8], 0.5f, 1.5f), c.InitF("bias", [8])], A.F("epsilon", 1e-5f)));
        });
        yield return new("layernorm_axis1_no_bias", 17, c =>
        {
            string x = c.InputF("x", [2, 3, 4], -2, 2);
            c.Output(c.Node("LayerNormalization", [x, c.InitF("scale", [3, 4], 0.5f, 1.5f)], A.I("axis", 1)));
        });
        yield return new("groupnorm", 21, c =>
        {
            string x = c.InputF("x", [2, 4, 3, 3], -2, 2);
            c.Output(c.Node("GroupNormalization", [x, c.InitF("scale", [4], 0.5f, 1.5f), c.InitF("bias", [4])], A.I("num_groups", 2)));
        });
        yield return new("lrn", 13, c =>
        {
            string x = c.InputF("x", [1, 5, 3, 3], -2, 2);
            c.Output(c.Node("LRN", [x], A.I("size", 3), A.F("alpha", 1e-2f), A.F("beta", 0.75f), A.F("bias", 1f)));
        });
        yield return new("lpnormalization_l2", 13, c =>
            c.Output(c.Node("LpNormalization", [c.InputF("x", [3, 5], -2, 2)], A.I("axis", -1), A.I("p", 2))));
    }

    private static IEnumerable<CaseDef> Resize()
    {
        static CaseDef R(string name, int opset, int[] x, float[]? scales, long[]? sizes, params AttributeProto[] attrs) =>
            new(name, opset, c =>
            {
                c.Description = $"Resize [{string.Join(",", x)}] " + (scales is not null ? $"scales [{string.Join(",", scales)}]" : $"sizes [{string.Join(",", sizes!)}]")
                    + " " + string.Join(" ", attrs.Select(a => a.Name + "=" + (a.Type == AttributeProto.Types.AttributeType.String ? a.S.ToStringUtf8() : a.Type == AttributeProto.Types.AttributeType.Float ? a.F.ToString(System.Globalization.CultureInfo.InvariantCulture) : a.I.ToString(System.Globalization.CultureInfo.InvariantCulture))));
                string xi = c.InputF("x", x, -2, 2);
                string roi = opset < 13 ? c.Init("roi", TensorData.F32([], 0)) : string.Empty;
                string[] ins = scales is not null
                    ? [xi, roi, c.InitF1("scales", scales)]
                    : [xi, roi, opset < 13 ? c.Init("scales", TensorData.F32([], 0)) : string.Empty, c.InitI64("sizes", sizes!)];
                c.Output(c.Node("Resize", ins, attrs));
            });

        int[] x = [1, 2, 4, 5];
        yield return R("resize_nearest_opset11_asymmetric_floor_x2", 11, x, [1, 1, 2, 2], null, A.S("mode", "nearest"), A.S("coordinate_transformation_mode", "asymmetric"), A.S("nearest_mode", "floor"));
        yield return R("resize_nearest_opset11_default_x2", 11, x, [1, 1, 2, 2], null);
        yield return R("resize_nearest_half_pixel_round_prefer_floor", 13, x, [1, 1, 1.5f, 2.5f], null, A.S("mode", "nearest"));
        yield return R("resize_nearest_round_prefer_ceil_sizes", 13, x, null, [1, 2, 7, 9], A.S("mode", "nearest"), A.S("nearest_mode", "round_prefer_ceil"));
        yield return R("resize_nearest_ceil_down", 13, [1, 2, 8, 9], [1, 1, 0.5f, 0.6f], null, A.S("mode", "nearest"), A.S("nearest_mode", "ceil"));
        yield return R("resize_nearest_align_corners", 13, x, null, [1, 2, 7, 8], A.S("mode", "nearest"), A.S("coordinate_transformation_mode", "align_corners"));
        yield return R("resize_nearest_asymmetric_floor_x2_opset13", 13, x, [1, 1, 2, 2], null, A.S("mode", "nearest"), A.S("coordinate_transformation_mode", "asymmetric"), A.S("nearest_mode", "floor"));
        yield return R("resize_linear_half_pixel_up", 13, x, [1, 1, 2, 1.5f], null, A.S("mode", "linear"));
        yield return R("resize_linear_half_pixel_down", 13, [1, 2, 8, 10], [1, 1, 0.5f, 0.75f], null, A.S("mode", "linear"));
        yield return R("resize_linear_align_corners", 13, x, null, [1, 2, 7, 9], A.S("mode", "linear"), A.S("coordinate_transformation_mode", "align_corners"));
        yield return R("resize_linear_asymmetric", 13, x, [1, 1, 2, 2], null, A.S("mode", "linear"), A.S("coordinate_transformation_mode", "asymmetric"));
        yield return R("resize_linear_pytorch_half_pixel", 13, x, null, [1, 2, 1, 9], A.S("mode", "linear"), A.S("coordinate_transformation_mode", "pytorch_half_pixel"));
        yield return R("resize_linear_sizes_224", 13, [1, 3, 10, 14], null, [1, 3, 24, 24], A.S("mode", "linear"));
        yield return R("resize_cubic_half_pixel", 13, x, [1, 1, 2, 2], null, A.S("mode", "cubic"));
        yield return R("resize_cubic_a05_exclude_outside", 13, x, [1, 1, 1.5f, 1.5f], null, A.S("mode", "cubic"), A.F("cubic_coeff_a", -0.5f), A.I("exclude_outside", 1));
        yield return new("upsample_opset9_nearest", 9, c =>
        {
            c.Description = "Upsample (opset 9, scales input), nearest";
            c.Output(c.Node("Upsample", [c.InputF("x", [1, 2, 3, 4]), c.InitF1("scales", 1, 1, 2, 3)], A.S("mode", "nearest")));
        });
        yield return new("upsample_opset7_linear_attr", 7, c =>
        {
            c.Description = "Upsample (opset 7, scales attribute), linear";
            c.Output(c.Node("Upsample", [c.InputF("x", [1, 2, 3, 4])], A.S("mode", "linear"), A.Floats("scales", 1, 1, 2, 2)));
        });
        yield return R("resize_linear_opset11_align_corners", 11, x, [1, 1, 2, 2], null, A.S("mode", "linear"), A.S("coordinate_transformation_mode", "align_corners"));
    }

    private static IEnumerable<CaseDef> Reductions()
    {
        foreach (string op in new[] { "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp" })
        {
            string lower = op.ToLowerInvariant();
            (float lo, float hi) range = op == "ReduceProd" ? (0.5f, 1.5f) : (-2f, 2f);

            // Opset 13: axes attribute for all but ReduceSum (which takes axes as an input from 13).
            foreach ((string variant, long[]? axes, int keep) in new (string, long[]?, int)[]
            {
                ("axis1_keepdims", [1], 1), ("axes_0_2_nokeep", [0, 2], 0), ("last_negative_keepdims", [-1], 1), ("all_nokeep", null, 0),
            })
            {
                yield return new($"{lower}_{variant}", 13, c =>
                {
                    c.Description = $"{op} opset 13 axes {(axes is null ? "all" : string.Join(",", axes))} keepdims={keep}";
                    string x = c.InputF("x", [2, 3, 4], range.lo, range.hi);
                    var attrs = new List<AttributeProto> { A.I("keepdims", keep) };
                    string[] ins = [x];
                    if (axes is not null)
                    {
                        if (op == "ReduceSum")
                        {
                            ins = [x, c.InitI64("axes", axes)];
                        }
                        else
                        {
                            attrs.Add(A.Ints("axes", axes));
                        }
                    }

                    c.Output(c.Node(op, ins, [.. attrs]));
                });
            }

            // Opset 18: axes as an input for all.
            yield return new($"{lower}_opset18_axes_input", 18, c =>
            {
                c.Description = $"{op} opset 18 axes input [1,3] keepdims=1";
                c.Output(c.Node(op, [c.InputF("x", [2, 3, 2, 4], range.lo, range.hi), c.InitI64("axes", 1, 3)]));
            });
        }

        yield return new("reducemean_opset18_empty_axes_noop", 18, c =>
        {
            c.Description = "ReduceMean with no axes and noop_with_empty_axes=1 is the identity";
            c.Output(c.Node("ReduceMean", [c.InputF("x", [2, 3])], A.I("noop_with_empty_axes", 1)));
        });
        yield return new("reducemean_opset11_spatial", 11, c =>
        {
            c.Description = "ReduceMean over H,W (a global average pool written as a reduction)";
            c.Output(c.Node("ReduceMean", [c.InputF("x", [2, 3, 4, 5])], A.Ints("axes", 2, 3)));
        });
        yield return new("reducemax_int64", 13, c =>
        {
            string x = c.Input("x", TensorData.I64(c.Rng.Longs(12, -100, 100), 3, 4));
            c.Output(c.Node("ReduceMax", [x], A.Ints("axes", 1), A.I("keepdims", 0)), DataType.Int64);
        });

        foreach (string op in new[] { "ArgMax", "ArgMin" })
        {
            string lower = op.ToLowerInvariant();
            yield return new($"{lower}_axis1_keepdims", 13, c =>
                c.Output(c.Node(op, [c.InputF("x", [2, 5, 3])], A.I("axis", 1)), DataType.Int64));
            yield return new($"{lower}_last_axis_nokeep", 13, c =>
                c.Output(c.Node(op, [c.InputF("x", [2, 3, 7])], A.I("axis", -1), A.I("keepdims", 0)), DataType.Int64));
            yield return new($"{lower}_ties_first_index", 13, c =>
            {
                c.Description = $"{op} with ties: the first index wins";
                float[] v = c.Rng.Ints(24, 0, 2).Select(i => (float)i).ToArray();
                c.Output(c.Node(op, [c.Input("x", TensorData.F32(v, 4, 6))], A.I("axis", 1)), DataType.Int64);
            });
            yield return new($"{lower}_ties_select_last_index", 13, c =>
            {
                c.Description = $"{op} with ties and select_last_index=1";
                float[] v = c.Rng.Ints(24, 0, 2).Select(i => (float)i).ToArray();
                c.Output(c.Node(op, [c.Input("x", TensorData.F32(v, 4, 6))], A.I("axis", 1), A.I("select_last_index", 1)), DataType.Int64);
            });
        }
    }
}
