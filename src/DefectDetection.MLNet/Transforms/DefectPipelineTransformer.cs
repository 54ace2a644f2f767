using System.IO.Compression;
using System.Text.Json;
using DefectDetection.Imaging;
using DefectDetection.Models;
using DefectDetection.Pipeline;
using DefectDetection.Vision.PipelineFiles;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace DefectDetection.MLNet.Transforms;

/// <summary>
/// Runs an <see cref="IDefectPipeline"/> (a region detector and crop classifiers) over an image column, adding
/// <see cref="DefectColumnNames.PredictedLabel"/> (true = defect), <see cref="DefectColumnNames.Probability"/> (the
/// confidence of a defect), <see cref="DefectColumnNames.DefectCount"/> and <see cref="DefectColumnNames.Inspection"/>
/// (the library's JSON report of the image: boxes, labels, every judged region).
/// </summary>
public sealed class DefectPipelineTransformer : DefectTransformer
{
    internal const string KindName = "defect-pipeline";
    private readonly IDisposable? _owned;
    private readonly ImageMapping<InspectionRow> _mapping;

    internal DefectPipelineTransformer(IDefectPipeline pipeline, string imageColumnName, string? pipelineFile, IDisposable? owned)
        : base(imageColumnName)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        Pipeline = pipeline;
        PipelineFile = pipelineFile;
        _owned = owned;
        _mapping = new ImageMapping<InspectionRow>(imageColumnName, Map, SchemaDefinition.Create(typeof(InspectionRow)));
    }

    /// <summary>The pipeline.</summary>
    public IDefectPipeline Pipeline { get; }

    /// <summary>The pipeline file it was loaded from (what a saved model refers to), or null for a pipeline built in code (which cannot be saved).</summary>
    public string? PipelineFile { get; }

    internal override string Kind => KindName;

    internal static SchemaShape OutputShape(string imageColumnName, SchemaShape input) =>
        new ImageMapping<InspectionRow>(imageColumnName, (_, _) => { }, SchemaDefinition.Create(typeof(InspectionRow))).OutputShape(input);

    internal override void Write(ZipArchive archive, string prefix)
    {
        if (PipelineFile is null)
        {
            throw new NotSupportedException("A pipeline built in code cannot be saved: build the transform from a pipeline file (mlContext.Transforms.InspectImages(pipelineFile, ...)), whose path the saved model keeps.");
        }

        using Stream json = archive.CreateEntry(prefix + "settings.json").Open();
        JsonSerializer.Serialize(json, new Settings(ImageColumnName, PipelineFile));
    }

    internal static DefectPipelineTransformer Read(ZipArchive archive, string prefix, string file)
    {
        Settings s = Persistence.BundleEntries.ReadJson<Settings>(archive, prefix + "settings.json", file);
        DefectPipeline pipeline = Vision.PipelineFiles.PipelineFile.Load(s.PipelineFile);
        return new DefectPipelineTransformer(pipeline, s.ImageColumn, s.PipelineFile, pipeline);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _owned?.Dispose();
        }
    }

    private protected override ITransformer Mapping(DataViewSchema schema) => _mapping.For(schema);

    private void Map(ImageView image, InspectionRow row)
    {
        InspectionResult result = Pipeline.Inspect(image);
        row.PredictedLabel = result.IsAnomalous;
        row.Probability = result.Confidence;
        row.DefectCount = result.Defects.Count;
        row.Inspection = PredictionReport.ToJson([PredictionReport.From(result)]);
    }

    private sealed record Settings(string ImageColumn, string PipelineFile);
}

/// <summary>The output row of <see cref="DefectPipelineTransformer"/>.</summary>
internal sealed class InspectionRow
{
    public bool PredictedLabel { get; set; }

    public float Probability { get; set; }

    public int DefectCount { get; set; }

    public string Inspection { get; set; } = string.Empty;
}

/// <summary>Runs a pipeline over an image column (what <see cref="DefectTransformsCatalog.InspectImages(TransformsCatalog, string, string)"/> returns).</summary>
public sealed class DefectPipelineEstimator : IEstimator<DefectPipelineTransformer>
{
    private readonly IDefectPipeline? _pipeline;
    private readonly string? _file;
    private readonly string _imageColumnName;

    internal DefectPipelineEstimator(IDefectPipeline? pipeline, string? file, string imageColumnName)
    {
        ArgumentException.ThrowIfNullOrEmpty(imageColumnName);
        if (file is not null && !File.Exists(file))
        {
            throw new FileNotFoundException($"The pipeline file '{file}' does not exist.", file);
        }

        _pipeline = pipeline;
        _file = file is null ? null : Path.GetFullPath(file);
        _imageColumnName = imageColumnName;
    }

    /// <summary>
    /// A transformer over the pipeline: a pipeline file is loaded (the transformer owns what it loads); a pipeline
    /// given in code stays the caller's.
    /// </summary>
    /// <param name="input">The data; its image column is checked.</param>
    public DefectPipelineTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Data.ImageColumn.KindOf(input.Schema, _imageColumnName);
        if (_pipeline is not null)
        {
            return new DefectPipelineTransformer(_pipeline, _imageColumnName, null, null);
        }

        DefectPipeline loaded = PipelineFile.Load(_file!);
        return new DefectPipelineTransformer(loaded, _imageColumnName, _file, loaded);
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => DefectPipelineTransformer.OutputShape(_imageColumnName, inputSchema);
}
