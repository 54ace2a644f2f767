using DefectDetection.ModelFiles;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.Heads;
using DefectDetection.Models;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Vision;

/// <summary>
/// Opens any <c>.ddmodel</c> file and returns the model of the learner that wrote it: the one place model kinds are
/// told apart (the CLI, pipeline files and services all load through it).
/// </summary>
public static class DefectModel
{
    /// <summary>Loads a model file.</summary>
    /// <param name="path">The <c>.ddmodel</c> file.</param>
    /// <param name="options">
    /// Load options. A model that references its backbone by SHA-256 instead of embedding it takes the backbone from
    /// <see cref="DefectModelLoadOptions.BackbonePath"/>, else from the file with that hash beside the model file.
    /// </param>
    /// <returns>The model; the caller disposes it.</returns>
    /// <exception cref="ModelFileException">
    /// The file is missing, corrupt, of another format version, of an unknown learner, malformed (the message names the
    /// entry and field), or its backbone is neither embedded nor found (the message names the file and SHA-256 needed).
    /// </exception>
    public static IDefectModel Load(string path, DefectModelLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new DefectModelLoadOptions();
        if (options.Threads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Threads, "DefectModelLoadOptions.Threads must be >= 0.");
        }

        string full = Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            throw new ModelFileException(full, "", "is a directory, not a model file");
        }

        ModelManifest manifest = ModelPackage.ReadManifest(full);
        string learner = manifest.Learner; // known, with its section, or empty: the reader checked
        if (learner.Length == 0)
        {
            throw new ModelFileException(full, "manifest.json", "$.learner", "empty: the file holds tensors but no learner's model");
        }

        string? backbone = FindBackbone(full, manifest, options.BackbonePath);
        int threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
        return learner switch
        {
            Learners.ImageClassifier => ImageClassificationModel.Load(full, backbone, threads),
            Learners.PatchCore => PatchCoreModel.Load(full, backbone, threads),
            Learners.VariationModel => VariationModel.Load(full),
            Learners.Combined => Combined.CombinedModel.Load(full, backbone, threads),
            Learners.PinResidual => ResidualCropClassifier.Load(full),
            _ => TemplateDifferenceCropClassifier.Load(full),
        };
    }

    /// <summary>Loads a model from a stream holding a <c>.ddmodel</c> file's bytes (its backbone must be embedded or given).</summary>
    /// <param name="stream">The bytes; read to the end, left open.</param>
    /// <param name="options">Load options.</param>
    /// <returns>The model; the caller disposes it.</returns>
    /// <exception cref="ModelFileException">The bytes are not a valid model file.</exception>
    public static IDefectModel Load(Stream stream, DefectModelLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        string temp = Path.Combine(Path.GetTempPath(), "ddmodel-" + Guid.NewGuid().ToString("N") + ModelPackage.FileExtension);
        try
        {
            using (FileStream file = new(temp, FileMode.CreateNew, FileAccess.Write))
            {
                stream.CopyTo(file);
            }

            return Load(temp, options);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>The learner that wrote a model file (one of <see cref="Learners"/>), from its manifest.</summary>
    /// <param name="path">The <c>.ddmodel</c> file.</param>
    /// <exception cref="ModelFileException">The file is not a model file of a known learner.</exception>
    public static string LearnerOf(string path)
    {
        string full = Path.GetFullPath(path);
        return ModelPackage.ReadManifest(full).Learner;
    }

    // The backbone file of a model that references it by hash: the given file, else the recorded name beside the
    // model, else any .onnx beside it with that hash. Null when the backbone is embedded or there is none.
    private static string? FindBackbone(string path, ModelManifest m, string? given)
    {
        if (given is not null || m.Backbone is not { Embedded: false, Sha256: { Length: > 0 } sha } info)
        {
            return given is null ? null : Path.GetFullPath(given);
        }

        string folder = Path.GetDirectoryName(path)!;
        IEnumerable<string> candidates = Directory.EnumerateFiles(folder, "*.onnx", new EnumerationOptions { RecurseSubdirectories = false, IgnoreInaccessible = true })
            .OrderBy(f => Path.GetFileName(f) == Path.GetFileName(info.Name) ? 0 : 1)
            .ThenBy(f => f, StringComparer.Ordinal);
        foreach (string candidate in candidates)
        {
            if (string.Equals(ModelPackage.ComputeSha256(candidate), sha, StringComparison.OrdinalIgnoreCase))
            {
                return candidate;
            }
        }

        throw new ModelFileException(path, "manifest.json",
            $"the model refers to its backbone '{info.Name}' by SHA-256 {sha} without embedding it, and no file beside the model ({folder}) has that hash: put the backbone there or give its path (CLI: --backbone)");
    }
}
