namespace DefectDetection.ModelFiles;

/// <summary>A float array with a shape, stored in a model file (for example a classifier's weights).</summary>
public sealed class ModelTensor
{
    /// <summary>Creates a tensor; the data is not copied.</summary>
    /// <param name="shape">Dimensions (each 0 or more); their product must equal the data length.</param>
    /// <param name="data">The values, row-major.</param>
    /// <exception cref="ArgumentException">The shape does not match the data.</exception>
    public ModelTensor(IReadOnlyList<int> shape, float[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        long count = ElementCount(shape);
        if (count < 0)
        {
            throw new ArgumentException($"Shape [{string.Join(", ", shape)}] has a negative dimension or is too large.", nameof(shape));
        }

        if (count != data.Length)
        {
            throw new ArgumentException($"Shape [{string.Join(", ", shape)}] needs {count} values, got {data.Length}.", nameof(data));
        }

        Shape = shape.ToArray();
        Data = data;
    }

    /// <summary>The most values a tensor holds: its bytes (4 per value) fit one array.</summary>
    internal const long MaxElements = 0x7FFFFFC7 / sizeof(float);

    /// <summary>The dimensions.</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>The values, row-major.</summary>
    public float[] Data { get; }

    /// <summary>
    /// The number of values of <paramref name="shape"/>, or -1 when a dimension is negative or the product exceeds
    /// <see cref="MaxElements"/> (checked after every factor, so the product cannot overflow).
    /// </summary>
    internal static long ElementCount(IReadOnlyList<int> shape)
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0)
            {
                return -1;
            }

            count = checked(count * d); // count <= MaxElements < 2^29 and d < 2^31: no overflow, checked all the same
            if (count > MaxElements)
            {
                return -1;
            }
        }

        return count;
    }
}
