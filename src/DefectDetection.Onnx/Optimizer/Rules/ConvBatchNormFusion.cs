using DefectDetection.Onnx.Graph;

namespace DefectDetection.Onnx.Optimizer.Rules;

/// <summary>"ConvBatchNormFusion": Conv (constant float weights) followed only by an inference BatchNormalization
/// with constant parameters becomes one Conv with scaled weights and a new bias.</summary>
internal sealed class ConvBatchNormFusion : IGraphRewrite
{
    public string Name => "ConvBatchNormFusion";

    public int Apply(OnnxGraph graph, GraphIndex index)
    {
        int count = 0;
        var removed = new HashSet<GraphNode>();
        foreach (GraphNode conv in graph.Nodes.ToList())
        {
            if (conv.OpType != "Conv" || conv.Domain.Length != 0 || conv.FusionData is not null || removed.Contains(conv))
            {
                continue;
            }

            GraphNode? bn = index.SoleConsumer(conv.Outputs[0]);
            if (bn is null || bn.OpType != "BatchNormalization" || bn.Input(0) != conv.Outputs[0] || bn.Outputs.Skip(1).Any(o => o.Length > 0) || bn.GetInt("training_mode", 0) != 0)
            {
                continue;
            }

            if (index.Constant(conv.Input(1)) is not OnnxTensor<float> w
                || index.Constant(bn.Input(1)) is not OnnxTensor<float> scale
                || index.Constant(bn.Input(2)) is not OnnxTensor<float> beta
                || index.Constant(bn.Input(3)) is not OnnxTensor<float> mean
                || index.Constant(bn.Input(4)) is not OnnxTensor<float> var)
            {
                continue;
            }

            OnnxTensor<float>? b = conv.HasInput(2) ? index.Constant(conv.Input(2)) as OnnxTensor<float> : null;
            int m = w.Dimensions[0];
            if (conv.HasInput(2) && b is null || scale.Length != m || beta.Length != m || mean.Length != m || var.Length != m)
            {
                continue;
            }

            // All conditions hold: change the graph.
            float eps = bn.GetFloat("epsilon", 1e-5f);
            int per = (int)(w.Length / m);
            var nw = new float[w.Length];
            var nb = new float[m];
            for (int o = 0; o < m; o++)
            {
                float a = scale.Data[o] / MathF.Sqrt(var.Data[o] + eps);
                for (int k = 0; k < per; k++)
                {
                    nw[(o * per) + k] = w.Data[(o * per) + k] * a;
                }

                nb[o] = ((b?.Data[o] ?? 0f) - mean.Data[o]) * a + beta.Data[o];
            }

            string wName = index.UniqueName(conv.Name + "_bn_weight");
            string bName = index.UniqueName(conv.Name + "_bn_bias");
            graph.Initializers[wName] = new OnnxTensor<float>(nw, w.Dimensions);
            graph.Initializers[bName] = new OnnxTensor<float>(nb, [m]);
            while (conv.Inputs.Count < 3)
            {
                conv.Inputs.Add("");
            }

            conv.Inputs[1] = wName;
            conv.Inputs[2] = bName;
            conv.Outputs[0] = bn.Outputs[0];
            removed.Add(bn);
            count++;
        }

        graph.Nodes = graph.Nodes.Where(n => !removed.Contains(n)).ToList();
        return count;
    }
}
