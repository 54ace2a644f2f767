using System.IO.Compression;
using System.Text.Json;
using DefectDetection.MLNet.Persistence;
using DefectDetection.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace DefectDetection.MLNet;

/// <summary>
/// Saving and loading ML.NET models that hold this package's transforms, on <c>mlContext.Model</c>. ML.NET's public
/// API gives a custom transformer no way to write its state into <c>mlContext.Model.Save</c>'s file (its save context
/// and loader registration are internal), so these write one zip instead: the chain is cut into runs of ML.NET
/// transformers, each saved by <c>mlContext.Model.Save</c> itself, and the library's transformers, each saved as the
/// library's own files (a <c>.ddmodel</c>, or the backbone and settings of a featurizer). Loading rebuilds the same
/// chain; <see cref="PredictionEngine{TSrc, TDst}"/> works on it as on any ML.NET model. A file that
/// <c>mlContext.Model.Save</c> wrote loads too, so one loader serves both.
/// </summary>
public static class DefectModelOperations
{
    private const string IndexEntry = "defect-mlnet.json", SchemaEntry = "input-schema.zip", Format = "defect-mlnet-v1";

    /// <summary>Saves a model (a transformer or chain, with or without the library's transforms) to a file.</summary>
    /// <param name="catalog">The model catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">The fitted model.</param>
    /// <param name="inputSchema">The schema of the data the model was fitted on (kept for loading), or null.</param>
    /// <param name="filePath">The file, replaced if it exists (written to a temporary file first, then moved into place).</param>
    /// <exception cref="NotSupportedException">A transform cannot be saved (a pipeline built in code).</exception>
    public static void SaveWithDefectDetection(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema? inputSchema, string filePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        string full = Path.GetFullPath(filePath);
        string temp = full + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            using (FileStream stream = new(temp, FileMode.CreateNew, FileAccess.Write))
            {
                catalog.SaveWithDefectDetection(model, inputSchema, stream);
            }

            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Saves a model (a transformer or chain, with or without the library's transforms) to a stream.</summary>
    /// <param name="catalog">The model catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">The fitted model.</param>
    /// <param name="inputSchema">The schema of the data the model was fitted on (kept for loading), or null.</param>
    /// <param name="stream">A writable stream; left open.</param>
    /// <exception cref="NotSupportedException">A transform cannot be saved (a pipeline built in code).</exception>
    public static void SaveWithDefectDetection(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema? inputSchema, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(stream);
        List<ITransformer> flat = [];
        Flatten(model, flat);

        using ZipArchive archive = new(stream, ZipArchiveMode.Create, leaveOpen: true);
        if (inputSchema is not null)
        {
            using Stream s = archive.CreateEntry(SchemaEntry, CompressionLevel.NoCompression).Open();
            using MemoryStream buffer = new();
            catalog.Save(new TransformerChain<ITransformer>(), inputSchema, buffer);
            s.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
        }

        List<Part> parts = [];
        DataViewSchema? schema = inputSchema;
        List<ITransformer> run = [];
        void FlushRun()
        {
            if (run.Count == 0)
            {
                return;
            }

            string entry = $"parts/{parts.Count}.mlnet.zip";
            using MemoryStream buffer = new();
            TransformerChain<ITransformer> chain = new([.. run]);
            DataViewSchema? runInput = schema;
            catalog.Save(chain, runInput, buffer);
            using (Stream s = archive.CreateEntry(entry, CompressionLevel.NoCompression).Open())
            {
                s.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
            }

            parts.Add(new Part("mlnet", entry));
            schema = runInput is null ? null : chain.GetOutputSchema(runInput);
            run.Clear();
        }

        foreach (ITransformer t in flat)
        {
            if (t is DefectTransformer d)
            {
                FlushRun();
                string prefix = $"parts/{parts.Count}/";
                d.Write(archive, prefix);
                parts.Add(new Part(d.Kind, prefix));
                schema = schema is null ? null : d.GetOutputSchema(schema);
            }
            else
            {
                run.Add(t);
            }
        }

        FlushRun();
        using Stream index = archive.CreateEntry(IndexEntry).Open();
        JsonSerializer.Serialize(index, new Index(Format, [.. parts]));
    }

    /// <summary>
    /// Loads a model saved by <see cref="SaveWithDefectDetection(ModelOperationsCatalog, ITransformer, DataViewSchema?, string)"/>,
    /// or by <c>mlContext.Model.Save</c>.
    /// </summary>
    /// <param name="catalog">The model catalog (<c>mlContext.Model</c>).</param>
    /// <param name="filePath">The file.</param>
    /// <param name="inputSchema">The schema given when saving, or null.</param>
    /// <returns>The model; dispose it to release the library's models and backbones.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a saved model, or an entry is missing or malformed (named).</exception>
    public static ITransformer LoadWithDefectDetection(this ModelOperationsCatalog catalog, string filePath, out DataViewSchema? inputSchema)
    {
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        if (!File.Exists(filePath))
        {
            throw new FileNotFoundException($"The model file '{filePath}' does not exist.", filePath);
        }

        using FileStream stream = File.OpenRead(filePath);
        return Load(catalog, stream, filePath, out inputSchema);
    }

    /// <summary>Loads a model from a stream (see <see cref="LoadWithDefectDetection(ModelOperationsCatalog, string, out DataViewSchema?)"/>).</summary>
    /// <param name="catalog">The model catalog (<c>mlContext.Model</c>).</param>
    /// <param name="stream">A readable, seekable stream; left open.</param>
    /// <param name="inputSchema">The schema given when saving, or null.</param>
    /// <returns>The model; dispose it to release the library's models and backbones.</returns>
    /// <exception cref="InvalidDataException">The bytes are not a saved model, or an entry is missing or malformed.</exception>
    public static ITransformer LoadWithDefectDetection(this ModelOperationsCatalog catalog, Stream stream, out DataViewSchema? inputSchema) =>
        Load(catalog, stream, "the model stream", out inputSchema);

    private static ITransformer Load(ModelOperationsCatalog catalog, Stream stream, string name, out DataViewSchema? inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(stream);
        long start = stream.Position;
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{name}' is not a saved model (not a zip file).", e);
        }

        using (archive)
        {
            if (archive.GetEntry(IndexEntry) is null)
            {
                // A plain ML.NET model.
                archive.Dispose();
                stream.Position = start;
                ITransformer plain = catalog.Load(stream, out DataViewSchema schema);
                inputSchema = schema;
                return plain;
            }

            Index index = BundleEntries.ReadJson<Index>(archive, IndexEntry, name);
            if (index.Format != Format)
            {
                throw new InvalidDataException($"'{name}' is of the format '{index.Format}'; this version reads '{Format}'.");
            }

            inputSchema = null;
            if (archive.GetEntry(SchemaEntry) is not null)
            {
                using MemoryStream buffer = Copy(archive, SchemaEntry, name);
                catalog.Load(buffer, out DataViewSchema schema);
                inputSchema = schema;
            }

            List<ITransformer> loaded = [];
            try
            {
                foreach (Part part in index.Parts)
                {
                    loaded.Add(part.Kind switch
                    {
                        "mlnet" => LoadRun(catalog, archive, part.Entry, name),
                        DefectModelTransformer.KindName => DefectModelTransformer.Read(archive, part.Entry, name),
                        ImageFeaturizerTransformer.KindName => ImageFeaturizerTransformer.Read(archive, part.Entry, name),
                        DefectPipelineTransformer.KindName => DefectPipelineTransformer.Read(archive, part.Entry, name),
                        _ => throw new InvalidDataException($"'{name}' holds a transform of the unknown kind '{part.Kind}'."),
                    });
                }
            }
            catch
            {
                foreach (IDisposable d in loaded.OfType<IDisposable>())
                {
                    d.Dispose();
                }

                throw;
            }

            return new TransformerChain<ITransformer>([.. loaded]);
        }
    }

    private static ITransformer LoadRun(ModelOperationsCatalog catalog, ZipArchive archive, string entry, string name)
    {
        using MemoryStream buffer = Copy(archive, entry, name);
        return catalog.Load(buffer, out _);
    }

    private static MemoryStream Copy(ZipArchive archive, string entry, string name)
    {
        MemoryStream buffer = new();
        using (Stream s = BundleEntries.Open(archive, entry, name))
        {
            s.CopyTo(buffer);
        }

        buffer.Position = 0;
        return buffer;
    }

    private static void Flatten(ITransformer model, List<ITransformer> into)
    {
        if (model is IEnumerable<ITransformer> chain)
        {
            foreach (ITransformer t in chain)
            {
                Flatten(t, into);
            }
        }
        else
        {
            into.Add(model);
        }
    }

    private sealed record Part(string Kind, string Entry);

    private sealed record Index(string Format, Part[] Parts);
}
