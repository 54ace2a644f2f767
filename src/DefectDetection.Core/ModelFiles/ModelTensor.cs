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
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"Shape [{string.Join(", ", shape)}] has a negative dimension.", nameof(shape));
            }

            count *= d;
            if (count > Array.MaxLength)
            {
                throw new ArgumentException($"Shape [{string.Join(", ", shape)}] is too large.", nameof(shape));
            }
        }

        if (count != data.Length)
        {
            throw new ArgumentException($"Shape [{string.Join(", ", shape)}] needs {count} values, got {data.Length}.", nameof(data));
        }

        Shape = shape.ToArray();
        Data = data;
    }

    /// <summary>The dimensions.</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>The values, row-major.</summary>
    public float[] Data { get; }
}
