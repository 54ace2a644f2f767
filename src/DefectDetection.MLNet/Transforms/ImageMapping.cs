using DefectDetection.Imaging;
using DefectDetection.MLNet.Data;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace DefectDetection.MLNet.Transforms;

/// <summary>
/// The row-by-row machinery of the transforms: a per-row function of the image is run through ML.NET's own
/// <c>CustomMapping</c> (so that data views, cursors, cursor sets and <see cref="PredictionEngine{TSrc, TDst}"/> behave as
/// for any ML.NET transform), with one mapping for a path column and one for an <see cref="MLImage"/> column.
/// </summary>
/// <typeparam name="TOut">The output row class.</typeparam>
internal sealed class ImageMapping<TOut>
    where TOut : class, new()
{
    // The mappings' own environment: catalog extensions cannot reach the caller's (ML.NET keeps it internal).
    private static readonly MLContext Context = new();

    static ImageMapping() => MLImageType.Register();
    private readonly Action<ImageView, TOut> _map;
    private readonly SchemaDefinition _output;
    private readonly ITransformer?[] _transformers = new ITransformer?[2];

    /// <summary>Creates the mapping.</summary>
    /// <param name="inputColumn">The image column (paths or MLImage).</param>
    /// <param name="map">Fills an output row from an image; must be thread-safe.</param>
    /// <param name="output">The output columns (names and types, vector sizes included).</param>
    public ImageMapping(string inputColumn, Action<ImageView, TOut> map, SchemaDefinition output)
    {
        ArgumentException.ThrowIfNullOrEmpty(inputColumn);
        InputColumn = inputColumn;
        _map = map;
        _output = output;
    }

    /// <summary>The image column.</summary>
    public string InputColumn { get; }

    /// <summary>The estimator of the mapping over a column of <paramref name="kind"/>.</summary>
    public IEstimator<ITransformer> Estimator(ImageColumnKind kind)
    {
        if (kind == ImageColumnKind.Path)
        {
            SchemaDefinition input = SchemaDefinition.Create(typeof(PathImageRow));
            input[0].ColumnName = InputColumn;
            return Context.Transforms.CustomMapping<PathImageRow, TOut>((s, d) =>
            {
                using Image image = ImageColumn.Load(s.ImagePath);
                _map(image.View(), d);
            }, contractName: null, input, _output);
        }

        SchemaDefinition images = MLImageDefinition();
        return Context.Transforms.CustomMapping<MLImageRow, TOut>((s, d) =>
        {
            using Image image = ImageColumn.FromMLImage(s.Image);
            _map(image.View(), d);
        }, contractName: null, images, _output);
    }

    /// <summary>The fitted mapping for the image column of <paramref name="schema"/> (made once per kind).</summary>
    public ITransformer For(DataViewSchema schema)
    {
        ImageColumnKind kind = ImageColumn.KindOf(schema, InputColumn);
        ITransformer? t = Volatile.Read(ref _transformers[(int)kind]);
        if (t is null)
        {
            t = Estimator(kind).Fit(EmptyView(kind));
            t = Interlocked.CompareExchange(ref _transformers[(int)kind], t, null) ?? t;
        }

        return t;
    }

    /// <summary>
    /// The output shape over <paramref name="input"/>: its columns (those of the output's names hidden) and the output
    /// columns. Not CustomMapping's own check, which refuses every image column: ML.NET 6's
    /// <c>ImageDataViewType.Equals</c> is false for two image types of the same size.
    /// </summary>
    public SchemaShape OutputShape(SchemaShape input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ImageColumn.KindOf(input, InputColumn);
        SchemaShape added = Context.Transforms.CustomMapping<NoColumns, TOut>((_, _) => { }, contractName: null, null, _output).GetOutputSchema(new SchemaShape([]));
        HashSet<string> names = [.. added.Select(c => c.Name)];
        return new SchemaShape([.. input.Where(c => !names.Contains(c.Name)), .. added]);
    }

    private SchemaDefinition MLImageDefinition()
    {
        SchemaDefinition d = SchemaDefinition.Create(typeof(MLImageRow));
        d[0].ColumnName = InputColumn;
        return d;
    }

    private IDataView EmptyView(ImageColumnKind kind)
    {
        if (kind == ImageColumnKind.Path)
        {
            SchemaDefinition d = SchemaDefinition.Create(typeof(PathImageRow));
            d[0].ColumnName = InputColumn;
            return Context.Data.LoadFromEnumerable(Array.Empty<PathImageRow>(), d);
        }

        return Context.Data.LoadFromEnumerable(Array.Empty<MLImageRow>(), MLImageDefinition());
    }
}

/// <summary>A row without columns (for the shape of a mapping's outputs alone).</summary>
internal sealed class NoColumns
{
}

/// <summary>
/// Maps an <see cref="MLImage"/> member without attributes to an image column of any size, as <c>LoadImages</c> makes
/// (ML.NET's own <c>[ImageType]</c> attribute demands a size).
/// </summary>
internal static class MLImageType
{
    private static int _registered;

    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0)
        {
            try
            {
                DataViewTypeManager.Register(new Microsoft.ML.Transforms.Image.ImageDataViewType(), typeof(MLImage), typeAttribute: null);
            }
            catch (ArgumentException)
            {
                // Registered already (by the application): the same mapping.
            }
        }
    }
}
