using System.Globalization;
using DefectDetection.Imaging.Processing;
using DefectDetection.ModelFiles;

namespace DefectDetection.Vision.Backbones;

/// <summary>
/// How a backbone's input layout is kept in a model file: the manifest's preprocessing block (size, colour, mean, std)
/// and the properties <c>preprocessing.channels</c>, <c>preprocessing.channel_order</c>, <c>preprocessing.scale</c> and
/// <c>preprocessing.resize_mode</c>. Shared by the models that run an ONNX backbone.
/// </summary>
internal static class LayoutManifest
{
    private const string ChannelsKey = "preprocessing.channels", OrderKey = "preprocessing.channel_order", ScaleKey = "preprocessing.scale", ResizeKey = "preprocessing.resize_mode";

    /// <summary>The manifest's preprocessing block for <paramref name="layout"/>; <paramref name="resize"/> names how images reach its size.</summary>
    public static PreprocessingInfo Describe(TensorLayoutOptions layout, string resize) => new()
    {
        Width = layout.Width,
        Height = layout.Height,
        Resize = resize,
        Color = layout.Channels == 1 ? "gray" : layout.ChannelOrder.ToString().ToLowerInvariant(),
        Mean = [.. layout.Mean],
        Std = [.. layout.Std],
    };

    /// <summary>Writes the layout's channels, order, scale and resampling into <paramref name="properties"/>.</summary>
    public static void WriteProperties(TensorLayoutOptions layout, IDictionary<string, string> properties)
    {
        properties[ChannelsKey] = layout.Channels.ToString(CultureInfo.InvariantCulture);
        properties[OrderKey] = layout.ChannelOrder.ToString();
        properties[ScaleKey] = layout.Scale.ToString("R", CultureInfo.InvariantCulture);
        properties[ResizeKey] = layout.ResizeMode.ToString();
    }

    /// <summary>
    /// Reads a layout back. A property that is absent takes <paramref name="defaults"/>' value, or, when
    /// <paramref name="defaults"/> is null, is an error; so are malformed values and an invalid layout.
    /// </summary>
    /// <exception cref="ModelFileException">A property is missing or malformed, naming it and the file.</exception>
    public static TensorLayoutOptions Read(string path, PreprocessingInfo pre, IReadOnlyDictionary<string, string> properties, TensorLayoutOptions? defaults)
    {
        string? Get(string key) => properties.TryGetValue(key, out string? v) ? v
            : defaults is null ? throw new ModelFileException(path, "manifest.json", $"the property '{key}' is missing") : null;

        try
        {
            string? channels = Get(ChannelsKey), order = Get(OrderKey), scale = Get(ScaleKey), resize = Get(ResizeKey);
            var layout = new TensorLayoutOptions
            {
                Width = pre.Width,
                Height = pre.Height,
                Channels = channels is null ? defaults!.Channels : int.Parse(channels, NumberStyles.Integer, CultureInfo.InvariantCulture),
                ChannelOrder = order is null ? defaults!.ChannelOrder : Enum.Parse<ChannelOrder>(order),
                Scale = scale is null ? defaults!.Scale : float.Parse(scale, NumberStyles.Float, CultureInfo.InvariantCulture),
                ResizeMode = resize is null ? defaults!.ResizeMode : Enum.Parse<ResizeMode>(resize),
                Mean = pre.Mean.Count > 0 || defaults is null ? [.. pre.Mean] : defaults.Mean,
                Std = pre.Std.Count > 0 || defaults is null ? [.. pre.Std] : defaults.Std,
            };
            layout.Validate();
            return layout;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            throw new ModelFileException(path, "manifest.json", "the backbone input layout (preprocessing) is malformed: " + e.Message, e);
        }
    }
}
