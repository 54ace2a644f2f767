using DefectDetection.Fuzzing;

namespace DefectDetection.Core.Tests.Fuzz;

/// <summary>
/// Replays tests/fuzz-corpus/{modelfile,manifest}: inputs that once crashed a reader must now end in the reader's
/// documented exception (or load); the fuzzer's seeds must load.
/// </summary>
public class CorpusReplayTests
{
    [Fact]
    public void ModelFile_CorpusEndsOnlyInModelFileException()
    {
        using ModelFileTarget target = new();
        Assert.Empty(target.Replay());
    }

    [Fact]
    public void DatasetManifest_CorpusEndsOnlyInDatasetException()
    {
        using DatasetManifestTarget target = new();
        Assert.Empty(target.Replay());
    }
}
