namespace DefectDetection.Onnx;

/// <summary>
/// A model could not be read, or cannot be run: malformed or truncated file, unsupported operators or attributes
/// (all listed at once in <see cref="Problems"/>), bad inputs, or an operator failing on its data.
/// </summary>
public sealed class OnnxModelException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="reason">What is wrong.</param>
    public OnnxModelException(string reason)
        : this(reason, null, null, null, null, null)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="reason">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public OnnxModelException(string reason, Exception? innerException)
        : this(reason, null, null, null, null, innerException)
    {
    }

    /// <summary>Creates the exception for one node.</summary>
    /// <param name="reason">What is wrong.</param>
    /// <param name="nodeName">The node's name.</param>
    /// <param name="opType">The operator type.</param>
    /// <param name="domain">The operator domain ("" is ai.onnx).</param>
    /// <param name="opset">The opset version in force for that domain.</param>
    /// <param name="innerException">The cause.</param>
    public OnnxModelException(string reason, string? nodeName, string? opType, string? domain, long? opset, Exception? innerException = null)
        : base(Format(reason, nodeName, opType, domain, opset), innerException)
    {
        Reason = reason;
        NodeName = nodeName;
        OpType = opType;
        Domain = domain;
        Opset = opset;
        Problems = [Message];
    }

    /// <summary>Creates the exception listing several problems found together.</summary>
    /// <param name="reason">A summary.</param>
    /// <param name="problems">Every problem, one line each.</param>
    public OnnxModelException(string reason, IReadOnlyList<string> problems)
        : base(reason + Environment.NewLine + "  " + string.Join(Environment.NewLine + "  ", problems))
    {
        Reason = reason;
        Problems = problems;
    }

    private OnnxModelException(OnnxModelException inner, string modelPath)
        : base(InFile(modelPath, inner.Message), inner)
    {
        Reason = inner.Reason;
        NodeName = inner.NodeName;
        OpType = inner.OpType;
        Domain = inner.Domain;
        Opset = inner.Opset;
        ModelPath = modelPath;
        Problems = inner.Problems.Count == 1 && inner.Problems[0] == inner.Message ? [Message] : inner.Problems;
    }

    /// <summary>The model file concerned, when the model was loaded from a path (it also starts the message).</summary>
    public string? ModelPath { get; }

    /// <summary>What is wrong, without the node details.</summary>
    public string Reason { get; }

    /// <summary>The node concerned, when one is.</summary>
    public string? NodeName { get; }

    /// <summary>The operator type concerned, when one is.</summary>
    public string? OpType { get; }

    /// <summary>The operator domain concerned ("" is ai.onnx), when one is.</summary>
    public string? Domain { get; }

    /// <summary>The opset version in force for the operator's domain, when relevant.</summary>
    public long? Opset { get; }

    /// <summary>Every problem found (for unsupported operators: all of them, one line each).</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>
    /// This exception with the model file named in its message and <see cref="ModelPath"/> (once: an exception that
    /// already names a file, or a null path, returns it unchanged). The one place that adds the file: loading, session
    /// creation and runs use it, and so can callers that read a model file's bytes themselves.
    /// </summary>
    /// <param name="modelPath">The model file, as the caller named it.</param>
    /// <returns>The exception to throw (this one wrapped, or this one).</returns>
    public OnnxModelException ForModelFile(string? modelPath) => modelPath is null || ModelPath is not null ? this : new(this, modelPath);

    private static string InFile(string modelPath, string message) => $"Model file '{modelPath}': {message}";

    private static string Format(string reason, string? nodeName, string? opType, string? domain, long? opset)
    {
        if (opType is null && nodeName is null)
        {
            return reason;
        }

        string dom = string.IsNullOrEmpty(domain) ? "ai.onnx" : domain;
        return $"{reason} (node '{nodeName}', operator {opType}, domain {dom}, opset {opset?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"})";
    }
}
