using DefectDetection.Fuzzing;

namespace DefectDetection.Vision.Tests.Fuzz;

/// <summary>
/// Replays tests/fuzz-corpus/pipeline: pipeline files that once crashed <c>PipelineFile.Load</c> must now end in
/// <c>PipelineFileException</c> (or load); the fuzzer's seeds must load.
/// </summary>
public class PipelineCorpusReplayTests
{
    [Fact]
    public void Pipeline_CorpusEndsOnlyInPipelineFileException()
    {
        using PipelineTarget target = new();
        Assert.Empty(target.Replay());
    }
}
