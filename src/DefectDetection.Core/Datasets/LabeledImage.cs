using DefectDetection.Imaging;

namespace DefectDetection.Datasets;

/// <summary>One labelled image of a dataset.</summary>
/// <param name="ImagePath">Full path of the image file.</param>
/// <param name="Label">The image's label (for example <c>normal</c> or <c>anomaly</c>).</param>
public sealed record LabeledImage(string ImagePath, string Label)
{
    /// <summary>Full path of a pixel mask for the image (non-zero or coloured pixels mark defects), or null.</summary>
    public string? MaskPath { get; init; }

    /// <summary>The mask colours and the label each one stands for (from a manifest's colour map), or empty.</summary>
    public IReadOnlyList<MaskColor> MaskColors { get; init; } = [];

    /// <summary>Labelled boxes inside the image (object detection), or empty.</summary>
    public IReadOnlyList<LabeledBox> Boxes { get; init; } = [];

    /// <summary>
    /// Full path of the defect-free golden template the image is compared with (reference-comparison data such as
    /// DeepPCB's test/template pairs), or null.
    /// </summary>
    public string? ReferencePath { get; init; }

    /// <summary>Where the item was described, for messages: <c>file</c> or <c>file:line</c>.</summary>
    public string? Origin { get; init; }
}

/// <summary>A mask colour and the label it stands for.</summary>
/// <param name="Label">The label (for example <c>cracked</c>).</param>
/// <param name="R">Red.</param>
/// <param name="G">Green.</param>
/// <param name="B">Blue.</param>
public readonly record struct MaskColor(string Label, byte R, byte G, byte B)
{
    /// <summary>The colour as <c>#RRGGBB</c>.</summary>
    public string Hex => $"#{R:X2}{G:X2}{B:X2}";
}

/// <summary>A labelled rectangle inside an image.</summary>
/// <param name="Box">The rectangle in pixels.</param>
/// <param name="Label">The object's label.</param>
public readonly record struct LabeledBox(Rectangle Box, string Label);
