using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.MLNet.Data;
using DefectDetection.Models;
using DefectDetection.Vision.PatchCore;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace DefectDetection.MLNet.Transforms;

/// <summary>Options of <see cref="PatchCoreEstimator"/> (<c>mlContext.AnomalyDetection.Trainers.PatchCore</c>).</summary>
public sealed class PatchCoreEstimatorOptions
{
    /// <summary>The image column: file paths (text) or <see cref="MLImage"/> values. Default <see cref="DefectColumnNames.ImagePath"/>.</summary>
    public string ImageColumnName { get; init; } = DefectColumnNames.ImagePath;

    /// <summary>
    /// An optional label column: boolean (true = anomaly), single-precision (non-zero = anomaly, ML.NET's anomaly
    /// convention) or text (a label among <see cref="PatchCoreOptions.NormalLabels"/> is normal). Normal rows build the
    /// memory bank; anomalous rows only help choose the threshold. Null (default): every row is normal, as for ML.NET's
    /// own anomaly trainers.
    /// </summary>
    public string? LabelColumnName { get; init; }

    /// <summary>The PatchCore settings (backbone, taps, coreset, threshold...). Required.</summary>
    public required PatchCoreOptions PatchCore { get; init; }

    /// <summary>Receives training progress when the estimator is fitted through <see cref="IEstimator{TTransformer}.Fit"/>; null: none.</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(ImageColumnName, nameof(ImageColumnName));
        if (LabelColumnName is { Length: 0 })
        {
            throw new ArgumentException("LabelColumnName must be null or a column name.", nameof(LabelColumnName));
        }

        ArgumentNullException.ThrowIfNull(PatchCore, nameof(PatchCore));
        _ = new PatchCoreTrainer(PatchCore); // validates the options now, not at Fit
    }
}

/// <summary>
/// The library's PatchCore-class anomaly detector as an ML.NET trainer: fitted on the normal images of an image column,
/// it gives a <see cref="DefectModelTransformer"/> whose <see cref="DefectColumnNames.Score"/> and
/// <see cref="DefectColumnNames.PredictedLabel"/> columns <c>mlContext.AnomalyDetection.Evaluate</c> reads (label: a
/// boolean column, true = anomaly, such as <see cref="DefectColumnNames.IsDefect"/>).
/// </summary>
public sealed class PatchCoreEstimator : IEstimator<DefectModelTransformer>
{
    internal PatchCoreEstimator(PatchCoreEstimatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The options.</summary>
    public PatchCoreEstimatorOptions Options { get; }

    /// <summary>Trains the model on the rows of <paramref name="input"/> (reporting to <see cref="PatchCoreEstimatorOptions.Progress"/>).</summary>
    /// <param name="input">The training data.</param>
    /// <returns>The transformer; it owns the trained model (dispose it).</returns>
    public DefectModelTransformer Fit(IDataView input) => Fit(input, Options.Progress, CancellationToken.None);

    /// <summary>Trains the model on the rows of <paramref name="input"/>.</summary>
    /// <param name="input">The training data.</param>
    /// <param name="progress">Receives training progress.</param>
    /// <param name="cancellationToken">Stops training early.</param>
    /// <returns>The transformer; it owns the trained model (dispose it).</returns>
    /// <exception cref="ArgumentException">The data has no normal row, or a column is missing or of the wrong type.</exception>
    public DefectModelTransformer Fit(IDataView input, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ImageColumnKind kind = ImageColumn.KindOf(input.Schema, Options.ImageColumnName);
        bool[] anomalous = ReadLabels(input);
        PatchCoreTrainer trainer = new(Options.PatchCore);
        if (kind == ImageColumnKind.Path)
        {
            string[] paths = [.. input.GetColumn<string>(Options.ImageColumnName)];
            string normal = Options.PatchCore.NormalLabels.Count > 0 ? Options.PatchCore.NormalLabels[0] : "normal";
            ImageDataset dataset = new(paths.Select((p, i) => new LabeledImage(p, Labelled(anomalous, i) ? "anomaly" : normal)));
            return new DefectModelTransformer(trainer.Fit(dataset, progress, cancellationToken), Options.ImageColumnName, ownsModel: true);
        }

        List<Image> normals = [], anomalies = [];
        try
        {
            int row = 0;
            foreach (MLImage? image in input.GetColumn<MLImage>(Options.ImageColumnName))
            {
                cancellationToken.ThrowIfCancellationRequested();
                (Labelled(anomalous, row++) ? anomalies : normals).Add(ImageColumn.FromMLImage(image));
            }

            if (normals.Count == 0)
            {
                throw new ArgumentException($"The data has no normal row to learn from ({anomalies.Count} anomalous rows).", nameof(input));
            }

            PatchCoreModel model = trainer.Fit([.. normals.Select(i => i.View())], [.. anomalies.Select(i => i.View())], progress, cancellationToken);
            return new DefectModelTransformer(model, Options.ImageColumnName, ownsModel: true);
        }
        finally
        {
            foreach (Image image in normals.Concat(anomalies))
            {
                image.Dispose();
            }
        }
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => DefectModelTransformer.OutputShape(Options.ImageColumnName, inputSchema);

    private static bool Labelled(bool[] anomalous, int row) => anomalous.Length > 0 && anomalous[row];

    // One flag a row (true = anomaly), or none without a label column.
    private bool[] ReadLabels(IDataView input)
    {
        if (Options.LabelColumnName is not string name)
        {
            return [];
        }

        DataViewSchema.Column column = input.Schema.GetColumnOrNull(name)
            ?? throw new ArgumentException($"The data has no label column '{name}'.", nameof(input));
        HashSet<string> normal = new(Options.PatchCore.NormalLabels, StringComparer.Ordinal);
        return column.Type switch
        {
            BooleanDataViewType => [.. input.GetColumn<bool>(name)],
            NumberDataViewType n when n.RawType == typeof(float) => [.. input.GetColumn<float>(name).Select(v => v != 0)],
            TextDataViewType => [.. input.GetColumn<string>(name).Select(v => !normal.Contains(v))],
            _ => throw new ArgumentException($"The label column '{name}' is {column.Type}; a boolean, single-precision or text column is needed.", nameof(input)),
        };
    }
}
