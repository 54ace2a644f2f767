using DefectDetection.Datasets;

namespace DefectDetection.Core.Tests.Datasets;

/// <summary>Assertions on the location a <see cref="DatasetException"/> reports.</summary>
internal static class DatasetAssert
{
    /// <summary>Runs <paramref name="read"/>, which must throw a <see cref="DatasetException"/> naming the file, line and field (also in its message).</summary>
    public static DatasetException ThrowsAt(Action read, string file, int line, string? field)
    {
        DatasetException e = Assert.Throws<DatasetException>(read);
        Assert.Equal(file, e.FilePath);
        Assert.Equal(line, e.Line);
        Assert.Equal(field, e.Field);
        Assert.Contains($"line {line}", e.Message, StringComparison.Ordinal);
        return e;
    }
}
