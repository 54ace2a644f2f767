using System.Globalization;
using DefectDetection.Onnx.Graph;
using DefectDetection.Onnx.Runtime;

namespace DefectDetection.Onnx.Kernels;

/// <summary>Creates a kernel for a node; throws <see cref="UnsupportedNodeException"/> for unsupported attributes.</summary>
internal delegate OpKernel KernelFactory(GraphNode node, KernelCreationContext context);

/// <summary>One registration: operator type, domain and the opset range it implements.</summary>
internal sealed record KernelRegistration(string OpType, string Domain, int SinceVersion, int EndVersion, KernelFactory Factory);

/// <summary>The one table of every kernel, keyed by (op type, domain, opset range).</summary>
internal static partial class KernelRegistry
{
    private static readonly Dictionary<(string OpType, string Domain), KernelRegistration[]> Table = BuildTable();

    public static IEnumerable<KernelRegistration> All => Table.Values.SelectMany(r => r);

    public static KernelRegistration? Find(string opType, string domain, long opset)
    {
        if (!Table.TryGetValue((opType, domain), out KernelRegistration[]? regs))
        {
            return null;
        }

        foreach (KernelRegistration r in regs)
        {
            if (opset >= r.SinceVersion && opset <= r.EndVersion)
            {
                return r;
            }
        }

        return null;
    }

    public static string Describe(GraphNode node, string reason)
        => string.Create(CultureInfo.InvariantCulture, $"{node.OpType} (domain {(node.Domain.Length == 0 ? "ai.onnx" : node.Domain)}, opset {node.Opset}, node '{node.Name}'): {reason}");

    public static OpKernel? Create(GraphNode node, KernelCreationContext context, out string? problem)
    {
        KernelRegistration? reg = Find(node.OpType, node.Domain, node.Opset);
        if (reg is null)
        {
            problem = Describe(node, "operator not supported");
            return null;
        }

        problem = null;
        return reg.Factory(node, context);
    }

    /// <summary>
    /// Every node without a kernel for its (op type, domain, opset), or whose kernel refuses an attribute or input
    /// form: the kernels are created once (with the initializers and Constant values) and their complaints collected.
    /// </summary>
    /// <exception cref="OnnxModelException">A node is malformed (for example an attribute out of range).</exception>
    public static IReadOnlyList<string> FindProblems(OnnxGraph graph)
    {
        var problems = new List<string>();
        var constants = new Dictionary<string, OnnxTensor>(graph.Initializers, StringComparer.Ordinal);
        foreach (GraphNode node in graph.Nodes)
        {
            if (node.OpType == "Constant" && node.Domain.Length == 0 && node.Outputs.Count == 1 && node.Attributes.TryGetValue("value", out NodeAttribute? v) && v.Tensor is not null)
            {
                constants[node.Outputs[0]] = v.Tensor;
            }
        }

        var context = new KernelCreationContext(constants, new OnnxSessionOptions { IntraOpThreads = 1 });
        foreach (GraphNode node in graph.Nodes)
        {
            KernelRegistration? reg = Find(node.OpType, node.Domain, node.Opset);
            if (reg is null)
            {
                problems.Add(Describe(node, "operator not supported"));
                continue;
            }

            try
            {
                _ = reg.Factory(node, context);
            }
            catch (UnsupportedNodeException e)
            {
                problems.Add(Describe(node, e.Message));
            }
            catch (Exception e) when (e is ArgumentException or InvalidCastException or IndexOutOfRangeException or OverflowException)
            {
                problems.Add(Describe(node, "invalid node: " + e.Message));
            }

            // An OnnxModelException (an attribute that is not representable or not valid, such as a perm that is
            // not a permutation) is a malformed model, not an unsupported one: it fails the load.
        }

        return problems;
    }

    private static Dictionary<(string, string), KernelRegistration[]> BuildTable()
    {
        var list = new List<KernelRegistration>();
        Register(list);
        return list.GroupBy(r => (r.OpType, r.Domain)).ToDictionary(g => g.Key, g => g.ToArray());
    }

    static partial void Register(List<KernelRegistration> list);
}
