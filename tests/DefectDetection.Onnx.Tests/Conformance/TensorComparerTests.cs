namespace DefectDetection.Onnx.Tests.Conformance;

/// <summary>The comparer used by the conformance tests must reject what it should.</summary>
public sealed class TensorComparerTests
{
    [Fact]
    public void FloatsWithinAbsoluteAndRelativeToleranceMatch()
    {
        var want = new DenseTensor<float>([1f, 1000f, 0f], [3]);
        var got = new DenseTensor<float>([1.00015f, 1000.1f, -0.00009f], [3]);
        Assert.Null(TensorComparer.Compare(want, got, 1e-4, 1e-4, 1));
    }

    [Fact]
    public void FloatsBeyondToleranceAreReportedWithIndex()
    {
        var want = new DenseTensor<float>([1f, 2f, 3f], [3]);
        var got = new DenseTensor<float>([1f, 2.001f, 3f], [3]);
        string? problem = TensorComparer.Compare(want, got, 1e-4, 1e-4, 1);
        Assert.NotNull(problem);
        Assert.Contains("[1]", problem);
    }

    [Fact]
    public void NanMatchesOnlyNanAndInfinityOnlyItself()
    {
        Assert.Null(TensorComparer.Compare(new DenseTensor<float>([float.NaN, float.PositiveInfinity], [2]), new DenseTensor<float>([float.NaN, float.PositiveInfinity], [2]), 1e-4, 1e-4, 1));
        Assert.NotNull(TensorComparer.Compare(new DenseTensor<float>([float.NaN], [1]), new DenseTensor<float>([0f], [1]), 1e-4, 1e-4, 1));
        Assert.NotNull(TensorComparer.Compare(new DenseTensor<float>([float.PositiveInfinity], [1]), new DenseTensor<float>([float.MaxValue], [1]), 1e-4, 1e-4, 1));
    }

    [Fact]
    public void QuantizedValuesAllowTheStatedSteps()
    {
        var want = new DenseTensor<byte>([10, 200, 0], [3]);
        Assert.Null(TensorComparer.Compare(want, new DenseTensor<byte>([11, 199, 0], [3]), 0, 0, 1));
        Assert.NotNull(TensorComparer.Compare(want, new DenseTensor<byte>([12, 200, 0], [3]), 0, 0, 1));
        Assert.NotNull(TensorComparer.Compare(want, new DenseTensor<byte>([11, 200, 0], [3]), 0, 0, 0));
    }

    [Fact]
    public void WideIntegersMustBeExact()
    {
        Assert.NotNull(TensorComparer.Compare(new DenseTensor<long>([5, 6], [2]), new DenseTensor<long>([5, 7], [2]), 1, 1, 1));
        Assert.NotNull(TensorComparer.Compare(new DenseTensor<int>([5], [1]), new DenseTensor<int>([4], [1]), 1, 1, 1));
    }

    [Fact]
    public void ShapeAndTypeMismatchesAreReported()
    {
        Assert.Contains("shape", TensorComparer.Compare(new DenseTensor<float>([2, 3]), new DenseTensor<float>([3, 2]), 1, 1, 1));
        Assert.Contains("type", TensorComparer.Compare(new DenseTensor<float>([2]), new DenseTensor<int>([2]), 1, 1, 1));
    }
}
