using DefectDetection.Datasets;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace DefectDetection.MLNet;

/// <summary>Loads the library's datasets as ML.NET data views on <c>mlContext.Data</c>.</summary>
public static class DefectDataCatalog
{
    /// <summary>
    /// A data view of a dataset, one row an image: <see cref="DefectColumnNames.ImagePath"/> (text),
    /// <see cref="DefectColumnNames.Label"/> (text), <see cref="DefectColumnNames.IsDefect"/> (boolean: the label is not
    /// normal), <see cref="DefectColumnNames.AnomalyLabel"/> (the same as 1 or 0, what <c>mlContext.AnomalyDetection.Evaluate</c> reads) and <see cref="DefectColumnNames.MaskPath"/> (text, empty without a mask). Images are not opened: the
    /// transforms decode the paths (or <c>LoadImages</c> turns them into <see cref="MLImage"/> values).
    /// </summary>
    /// <param name="catalog">The data catalog.</param>
    /// <param name="dataset">The dataset.</param>
    /// <param name="normalLabels">The labels that are not defects. Default <see cref="Models.Learners.DefaultNormalLabels"/> (<c>normal</c>, <c>good</c>, <c>ok</c>, <c>free</c>).</param>
    public static IDataView LoadFromImageDataset(this DataOperationsCatalog catalog, ImageDataset dataset, IReadOnlyCollection<string>? normalLabels = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(dataset);
        HashSet<string> normal = new(normalLabels ?? Models.Learners.DefaultNormalLabels, StringComparer.Ordinal);
        ImageDatasetRow[] rows = [.. dataset.Select(i => new ImageDatasetRow
        {
            ImagePath = i.ImagePath,
            Label = i.Label,
            IsDefect = !normal.Contains(i.Label),
            AnomalyLabel = normal.Contains(i.Label) ? 0 : 1,
            MaskPath = i.MaskPath ?? string.Empty,
        })];
        return catalog.LoadFromEnumerable(rows);
    }

    /// <summary>
    /// The images of a folder of label folders (<c>normal/</c>, <c>anomaly/</c>, ...; see <see cref="ImageDataset.FromFolder"/>)
    /// as a data view with the columns of <see cref="LoadFromImageDataset"/>.
    /// </summary>
    /// <param name="catalog">The data catalog.</param>
    /// <param name="folder">The folder.</param>
    /// <param name="options">Which files count as images. Default: the usual image extensions, recursively.</param>
    /// <param name="normalLabels">The labels that are not defects. Default <see cref="Models.Learners.DefaultNormalLabels"/> (<c>normal</c>, <c>good</c>, <c>ok</c>, <c>free</c>).</param>
    /// <exception cref="DatasetException">The folder is missing or holds no label folder.</exception>
    public static IDataView LoadFromImageFolder(this DataOperationsCatalog catalog, string folder, FolderDatasetOptions? options = null, IReadOnlyCollection<string>? normalLabels = null) =>
        catalog.LoadFromImageDataset(ImageDataset.FromFolder(folder, options), normalLabels);

    /// <summary>
    /// The images of a Lookout for Vision / SageMaker Ground Truth manifest (JSON Lines; see
    /// <see cref="ImageDataset.FromManifest"/>) as a data view with the columns of <see cref="LoadFromImageDataset"/>.
    /// </summary>
    /// <param name="catalog">The data catalog.</param>
    /// <param name="manifestPath">The manifest.</param>
    /// <param name="options">Where the images are and which attributes to read.</param>
    /// <param name="normalLabels">The labels that are not defects. Default <see cref="Models.Learners.DefaultNormalLabels"/> (<c>normal</c>, <c>good</c>, <c>ok</c>, <c>free</c>).</param>
    /// <exception cref="DatasetException">The manifest is malformed (the message names the line).</exception>
    public static IDataView LoadFromLookoutForVisionManifest(this DataOperationsCatalog catalog, string manifestPath, ManifestOptions? options = null, IReadOnlyCollection<string>? normalLabels = null) =>
        catalog.LoadFromImageDataset(ImageDataset.FromManifest(manifestPath, options), normalLabels);
}

/// <summary>A row of <see cref="DefectDataCatalog.LoadFromImageDataset"/>.</summary>
internal sealed class ImageDatasetRow
{
    public string ImagePath { get; set; } = string.Empty;

    public string Label { get; set; } = string.Empty;

    public bool IsDefect { get; set; }

    public float AnomalyLabel { get; set; }

    public string MaskPath { get; set; } = string.Empty;
}
