namespace DefectDetection.Models;

/// <summary>Options of <see cref="IDefectModel.Save(string, DefectModelSaveOptions?)"/>.</summary>
public sealed class DefectModelSaveOptions
{
    /// <summary>Replace an existing file. Default false: saving over an existing file fails.</summary>
    public bool Overwrite { get; init; }

    /// <summary>
    /// Store the backbone ONNX inside the file (default true). False stores only its name and SHA-256; loading then
    /// finds the backbone beside the model file or takes it from <see cref="DefectModelLoadOptions.BackbonePath"/>.
    /// </summary>
    public bool EmbedBackbone { get; init; } = true;

    /// <summary>A note on where the training data came from, stored in the manifest. Default null.</summary>
    public string? DataSource { get; init; }
}

/// <summary>Options of <c>DefectModel.Load</c>.</summary>
public sealed class DefectModelLoadOptions
{
    /// <summary>
    /// The backbone ONNX of a model that references its backbone by SHA-256 instead of embedding it. Null: the loader
    /// looks for a file with that hash beside the model file (the recorded name first). A given file must have the
    /// recorded hash.
    /// </summary>
    public string? BackbonePath { get; init; }

    /// <summary>Threads for the backbone and searches; 0 (default) = processor count.</summary>
    public int Threads { get; init; }
}
