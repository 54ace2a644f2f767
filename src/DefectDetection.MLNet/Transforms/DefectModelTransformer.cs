using System.IO.Compression;
using System.Text.Json;
using DefectDetection.Imaging;
using DefectDetection.Models;
using DefectDetection.Vision;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace DefectDetection.MLNet.Transforms;

/// <summary>
/// Scores an image column with a trained <see cref="IDefectModel"/> (any learner: a PatchCore anomaly model, a
/// classifier, ...), adding <see cref="DefectColumnNames.Score"/> (the model's raw score, higher is more defective),
/// <see cref="DefectColumnNames.PredictedLabel"/> (true = defect), <see cref="DefectColumnNames.Probability"/> (the
/// calibrated confidence of a defect) and <see cref="DefectColumnNames.PredictedClass"/> (the model's label): the
/// columns <c>mlContext.AnomalyDetection.Evaluate</c> and <c>mlContext.BinaryClassification.EvaluateNonCalibrated</c> read.
/// </summary>
public sealed class DefectModelTransformer : DefectTransformer
{
    internal const string KindName = "defect-model";
    private readonly bool _ownsModel;
    private readonly ImageMapping<ScoreRow> _mapping;

    internal DefectModelTransformer(IDefectModel model, string imageColumnName, bool ownsModel)
        : base(imageColumnName)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        _ownsModel = ownsModel;
        _mapping = new ImageMapping<ScoreRow>(imageColumnName, Map, SchemaDefinition.Create(typeof(ScoreRow)));
    }

    /// <summary>The model (owned by the transformer when the transformer was trained or loaded, else by the caller).</summary>
    public IDefectModel Model { get; }

    internal override string Kind => KindName;

    internal static SchemaShape OutputShape(string imageColumnName, SchemaShape input) =>
        new ImageMapping<ScoreRow>(imageColumnName, (_, _) => { }, SchemaDefinition.Create(typeof(ScoreRow))).OutputShape(input);

    internal override void Write(ZipArchive archive, string prefix)
    {
        using (Stream s = archive.CreateEntry(prefix + "model.ddmodel", CompressionLevel.NoCompression).Open())
        {
            Model.Save(s);
        }

        using Stream settings = archive.CreateEntry(prefix + "settings.json").Open();
        JsonSerializer.Serialize(settings, new Settings(ImageColumnName));
    }

    internal static DefectModelTransformer Read(ZipArchive archive, string prefix, string file)
    {
        Settings settings = Persistence.BundleEntries.ReadJson<Settings>(archive, prefix + "settings.json", file);
        using Stream s = Persistence.BundleEntries.Open(archive, prefix + "model.ddmodel", file);
        IDefectModel model = DefectModel.Load(s);
        return new DefectModelTransformer(model, settings.ImageColumn, ownsModel: true);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && _ownsModel)
        {
            Model.Dispose();
        }
    }

    private protected override ITransformer Mapping(DataViewSchema schema) => _mapping.For(schema);

    private void Map(ImageView image, ScoreRow row)
    {
        DefectPrediction p = Model.Predict(image);
        row.Score = (float)p.Score;
        row.PredictedLabel = p.IsDefect;
        row.Probability = p.Confidence;
        row.PredictedClass = p.Label;
    }

    private sealed record Settings(string ImageColumn);
}

/// <summary>The output row of <see cref="DefectModelTransformer"/>.</summary>
internal sealed class ScoreRow
{
    public float Score { get; set; }

    public bool PredictedLabel { get; set; }

    public float Probability { get; set; }

    public string PredictedClass { get; set; } = string.Empty;
}

/// <summary>
/// Applies an already trained <see cref="IDefectModel"/> (what <see cref="DefectTransformsCatalog.ApplyDefectModel"/>
/// returns); nothing is learned, so <see cref="Fit"/> only checks the image column.
/// </summary>
public sealed class DefectModelEstimator : IEstimator<DefectModelTransformer>
{
    private readonly IDefectModel _model;
    private readonly string _imageColumnName;

    internal DefectModelEstimator(IDefectModel model, string imageColumnName)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(imageColumnName);
        _model = model;
        _imageColumnName = imageColumnName;
    }

    /// <summary>A transformer over the model (the caller keeps owning the model: dispose it after the transformer's last use).</summary>
    /// <param name="input">The data; its image column is checked.</param>
    public DefectModelTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Data.ImageColumn.KindOf(input.Schema, _imageColumnName);
        return new DefectModelTransformer(_model, _imageColumnName, ownsModel: false);
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => DefectModelTransformer.OutputShape(_imageColumnName, inputSchema);
}
