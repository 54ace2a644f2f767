using DefectDetection.Datasets;

namespace DefectDetection.Projects;

/// <summary>The part of the dataset an entry belongs to.</summary>
public enum EntrySplit
{
    /// <summary>Trained on.</summary>
    Train,

    /// <summary>Held out: each version is tested on it.</summary>
    Test,
}

/// <summary>One image of a project's dataset.</summary>
/// <param name="Id">The entry's id (stable; model versions refer to it).</param>
/// <param name="Split">Train or test.</param>
/// <param name="Label">The label.</param>
/// <param name="ImagePath">The project's copy of the image (content-addressed; never the user's file).</param>
/// <param name="Sha256">The image's SHA-256.</param>
public sealed record DatasetEntry(long Id, EntrySplit Split, string Label, string ImagePath, string Sha256)
{
    /// <summary>The project's copy of the mask, or null.</summary>
    public string? MaskPath { get; init; }

    /// <summary>Where the image came from: the imported file's path, or the trial image's.</summary>
    public required string Source { get; init; }

    /// <summary>How it came: <c>import N (kind)</c> or <c>trial N (vM)</c>.</summary>
    public required string Origin { get; init; }

    /// <summary>When it was added (UTC).</summary>
    public DateTime AddedAt { get; init; }

    /// <summary>True when a person verified the label (accepted from a trial).</summary>
    public bool Verified { get; init; }

    /// <summary>When it was removed from the dataset (UTC), or null. Removed entries stay for the versions trained on them.</summary>
    public DateTime? RemovedAt { get; init; }
}

/// <summary>What <see cref="ProjectDataset.Import"/> reads and how it splits it.</summary>
public sealed class ImportOptions
{
    /// <summary>
    /// The images: a folder (Lookout for Vision or MVTec AD <c>train/</c> + <c>test/</c>, label folders, files named by
    /// label such as <c>normal-1.jpg</c>, or images named anything, all <see cref="Label"/>), a Lookout for Vision /
    /// Ground Truth manifest, or a CSV list (<c>path,label[,mask]</c>).
    /// </summary>
    public required string Source { get; init; }

    /// <summary>The image folder of a manifest (required for <c>s3://</c> references).</summary>
    public string? Images { get; init; }

    /// <summary>The split of every image (null, the default: the source's own train/test parts, else train).</summary>
    public EntrySplit? Split { get; init; }

    /// <summary>Share of each label sent to the test split by a seeded split (0, the default: none); not with <see cref="Split"/>.</summary>
    public double TestFraction { get; init; }

    /// <summary>The seed of <see cref="TestFraction"/>'s split.</summary>
    public int Seed { get; init; }

    /// <summary>The label of a folder of images named anything (default <c>normal</c>).</summary>
    public string Label { get; init; } = "normal";
}

/// <summary>What an import did.</summary>
/// <param name="ImportId">The import's id (the <c>import N</c> of each entry's origin).</param>
/// <param name="Layout">How the source was read, in words.</param>
/// <param name="Added">The entries added.</param>
/// <param name="Duplicates">Images skipped because the project (or the source, earlier) holds the same content.</param>
/// <param name="Report">The validation report of the source (its warnings; an import with errors adds nothing and throws).</param>
public sealed record ImportResult(long ImportId, string Layout, IReadOnlyList<DatasetEntry> Added, IReadOnlyList<string> Duplicates, DatasetValidationReport Report);

/// <summary>Which entries <see cref="ProjectDataset.List"/> returns.</summary>
public sealed class DatasetQuery
{
    /// <summary>Only this split (null: both).</summary>
    public EntrySplit? Split { get; init; }

    /// <summary>Only this label (null: all).</summary>
    public string? Label { get; init; }

    /// <summary>Only verified (true) or unverified (false) entries (null: both).</summary>
    public bool? Verified { get; init; }

    /// <summary>Include removed entries.</summary>
    public bool IncludeRemoved { get; init; }

    /// <summary>Entries to skip (by id order).</summary>
    public int Offset { get; init; }

    /// <summary>At most this many (null: all).</summary>
    public int? Limit { get; init; }
}
