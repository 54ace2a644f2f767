using DefectDetection.Fuzzing;

namespace DefectDetection.Onnx.Tests.Fuzz;

/// <summary>
/// Replays tests/fuzz-corpus/onnx: model bytes that once crashed <c>OnnxModel.Load</c> must now end in
/// <c>OnnxModelException</c> (or load); the fuzzer's seeds must load.
/// </summary>
public class OnnxCorpusReplayTests
{
    [Fact]
    public void Onnx_CorpusEndsOnlyInOnnxModelException()
    {
        using OnnxTarget target = new();
        Assert.Empty(target.Replay());
    }
}
