namespace DefectDetection.Onnx.Tests.Conformance;

/// <summary>The comparer used by the conformance tests must reject what it should.</summary>
public sealed class TensorComparerTests
{
    [Fact]
    public void FloatsWithinAbsoluteAndRelativeToleranceMatch()
    {
        var want = new OnnxTensor<float>([1f, 1000f, 0f], [3]);
        var got = new OnnxTensor<float>([1.00015f, 1000.1f, -0.00009f], [3]);
        Assert.Null(TensorComparer.Compare(want, got, 1e-4, 1e-4, 1));
    }

    [Fact]
    public void FloatsBeyondToleranceAreReportedWithIndex()
    {
        var want = new OnnxTensor<float>([1f, 2f, 3f], [3]);
        var got = new OnnxTensor<float>([1f, 2.001f, 3f], [3]);
        string? problem = TensorComparer.Compare(want, got, 1e-4, 1e-4, 1);
        Assert.NotNull(problem);
        Assert.Contains("[1]", problem);
    }

    [Fact]
    public void NanMatchesOnlyNanAndInfinityOnlyItself()
    {
        Assert.Null(TensorComparer.Compare(new OnnxTensor<float>([float.NaN, float.PositiveInfinity], [2]), new OnnxTensor<float>([float.NaN, float.PositiveInfinity], [2]), 1e-4, 1e-4, 1));
        Assert.NotNull(TensorComparer.Compare(new OnnxTensor<float>([float.NaN], [1]), new OnnxTensor<float>([0f], [1]), 1e-4, 1e-4, 1));
        Assert.NotNull(TensorComparer.Compare(new OnnxTensor<float>([float.PositiveInfinity], [1]), new OnnxTensor<float>([float.MaxValue], [1]), 1e-4, 1e-4, 1));
    }

    [Fact]
    public void QuantizedValuesAllowTheStatedSteps()
    {
        var want = new OnnxTensor<byte>([10, 200, 0], [3]);
        Assert.Null(TensorComparer.Compare(want, new OnnxTensor<byte>([11, 199, 0], [3]), 0, 0, 1));
        Assert.NotNull(TensorComparer.Compare(want, new OnnxTensor<byte>([12, 200, 0], [3]), 0, 0, 1));
        Assert.NotNull(TensorComparer.Compare(want, new OnnxTensor<byte>([11, 200, 0], [3]), 0, 0, 0));
    }

    [Fact]
    public void WideIntegersMustBeExact()
    {
        Assert.NotNull(TensorComparer.Compare(new OnnxTensor<long>([5, 6], [2]), new OnnxTensor<long>([5, 7], [2]), 1, 1, 1));
        Assert.NotNull(TensorComparer.Compare(new OnnxTensor<int>([5], [1]), new OnnxTensor<int>([4], [1]), 1, 1, 1));
    }

    [Fact]
    public void ShapeAndTypeMismatchesAreReported()
    {
        Assert.Contains("shape", TensorComparer.Compare(new OnnxTensor<float>([2, 3]), new OnnxTensor<float>([3, 2]), 1, 1, 1));
        Assert.Contains("type", TensorComparer.Compare(new OnnxTensor<float>([2]), new OnnxTensor<int>([2]), 1, 1, 1));
    }
}
