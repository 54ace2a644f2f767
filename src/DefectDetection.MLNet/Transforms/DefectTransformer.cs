using Microsoft.ML;
using Microsoft.ML.Data;

namespace DefectDetection.MLNet.Transforms;

/// <summary>
/// The base of this package's transformers: each judges or describes the images of one column (file paths, or
/// <see cref="Microsoft.ML.Data.MLImage"/> values from <c>LoadImages</c>) row by row, inside any ML.NET pipeline and
/// <see cref="PredictionEngine{TSrc, TDst}"/>. ML.NET's public API cannot persist a custom transformer's state, so
/// <c>mlContext.Model.Save</c> refuses these with a message: save a model holding them with
/// <see cref="DefectModelOperations.SaveWithDefectDetection(ModelOperationsCatalog, ITransformer, DataViewSchema?, string)"/>
/// and load it with <see cref="DefectModelOperations.LoadWithDefectDetection(ModelOperationsCatalog, string, out DataViewSchema?)"/>.
/// Dispose the transformer (or the chain holding it) to release what it owns.
/// </summary>
public abstract class DefectTransformer : ITransformer, IDisposable
{
    private int _disposed;

    private protected DefectTransformer(string imageColumnName)
    {
        ArgumentException.ThrowIfNullOrEmpty(imageColumnName);
        ImageColumnName = imageColumnName;
    }

    /// <summary>The image column read (file paths or MLImage values).</summary>
    public string ImageColumnName { get; }

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <summary>The kind written in saved models (see <see cref="DefectModelOperations"/>).</summary>
    internal abstract string Kind { get; }

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Mapping(inputSchema).GetOutputSchema(inputSchema);

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => Mapping(inputSchema).GetRowToRowMapper(inputSchema);

    /// <inheritdoc />
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Mapping(input.Schema).Transform(input);
    }

    /// <summary>Refuses: ML.NET's public API gives a custom transformer no way to write its state.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => throw new NotSupportedException(
        $"{GetType().Name} cannot be saved by mlContext.Model.Save (ML.NET's public API cannot persist a custom transformer's state). " +
        "Save the model with mlContext.Model.SaveWithDefectDetection(model, schema, path) and load it with mlContext.Model.LoadWithDefectDetection(path, out schema) (namespace DefectDetection.MLNet).");

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Dispose(true);
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>Releases what the transformer owns.</summary>
    /// <param name="disposing">True from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>Writes the transformer's state (its entries under <paramref name="prefix"/>).</summary>
    internal abstract void Write(System.IO.Compression.ZipArchive archive, string prefix);

    private protected abstract ITransformer Mapping(DataViewSchema schema);
}
