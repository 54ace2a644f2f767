namespace DefectDetection.Onnx;

/// <summary>Name, element type and shape of a model input or output.</summary>
/// <param name="Name">The tensor name.</param>
/// <param name="ElementType">The element type.</param>
/// <param name="Shape">The dimensions; dynamic ones have no <see cref="Dimension.Value"/>.</param>
public sealed record TensorInfo(string Name, TensorElementType ElementType, IReadOnlyList<Dimension> Shape)
{
    /// <inheritdoc />
    public override string ToString()
        => $"{Name}: {ElementType}[{string.Join(",", Shape.Select(d => d.ToString()))}]";
}

/// <summary>One dimension of a declared shape: a fixed size, or dynamic (a symbol such as "batch", or neither).</summary>
/// <param name="Value">The fixed size, or null when dynamic.</param>
/// <param name="Symbol">The symbolic name of a dynamic dimension, if any.</param>
public readonly record struct Dimension(long? Value, string? Symbol)
{
    /// <summary>True when the size is only known at run time.</summary>
    public bool IsDynamic => Value is null;

    /// <summary>The fixed size, else the symbol, else <c>?</c>.</summary>
    public override string ToString() => Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Symbol ?? "?";
}
