namespace DefectDetection.Onnx.Tests.Helpers;

/// <summary>Generates a long chain of alternating Relu and Add nodes (for load-time scaling checks).</summary>
internal static class LongChain
{
    /// <summary>The input "x" and output "y" are float[4]; each Add adds the initializer "c" = [1, 1, 1, 1].</summary>
    /// <param name="nodes">The number of nodes (at least 1).</param>
    /// <returns>The serialized model.</returns>
    public static byte[] Build(int nodes)
    {
        var b = new GraphBuilder().Input("x", TensorElementType.Float32, 4).Initializer("c", new float[] { 1, 1, 1, 1 }, 4);
        string previous = "x";
        for (int i = 0; i < nodes; i++)
        {
            string output = i == nodes - 1 ? "y" : "t" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            b = i % 2 == 0 ? b.Node("Relu", [previous], [output]) : b.Node("Add", [previous, "c"], [output]);
            previous = output;
        }

        return b.Output("y", TensorElementType.Float32, 4).ToBytes();
    }

    /// <summary>What <see cref="Build"/>'s model computes for an input: every Add adds 1 after a Relu.</summary>
    public static float Expected(float x, int nodes)
    {
        float v = x;
        for (int i = 0; i < nodes; i++)
        {
            v = i % 2 == 0 ? Math.Max(v, 0) : v + 1;
        }

        return v;
    }
}
