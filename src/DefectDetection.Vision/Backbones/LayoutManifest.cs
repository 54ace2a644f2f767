using DefectDetection.Imaging.Processing;
using DefectDetection.ModelFiles;

namespace DefectDetection.Vision.Backbones;

/// <summary>
/// How a backbone's input layout is kept in a model file: the manifest's preprocessing block (size, colour, mean, std,
/// channels, channel order, scale, resampling). Shared by the models that run an ONNX backbone.
/// </summary>
internal static class LayoutManifest
{
    /// <summary>The manifest's preprocessing block for <paramref name="layout"/>; <paramref name="resize"/> names how images reach its size.</summary>
    public static PreprocessingInfo Describe(TensorLayoutOptions layout, string resize) => new()
    {
        Width = layout.Width,
        Height = layout.Height,
        Resize = resize,
        Color = layout.Channels == 1 ? "gray" : layout.ChannelOrder.ToString().ToLowerInvariant(),
        Mean = [.. layout.Mean],
        Std = [.. layout.Std],
        Channels = layout.Channels,
        ChannelOrder = layout.ChannelOrder.ToString(),
        Scale = layout.Scale,
        ResizeMode = layout.ResizeMode.ToString(),
    };

    /// <summary>Reads a layout back from the preprocessing block.</summary>
    /// <exception cref="ModelFileException">A field is missing or malformed, or the layout is invalid, naming it and the file.</exception>
    public static TensorLayoutOptions Read(string path, PreprocessingInfo? pre)
    {
        const string entry = "manifest.json";
        if (pre is null)
        {
            throw new ModelFileException(path, entry, "$.preprocessing", "missing; a model with a backbone records its input layout there");
        }

        int channels = pre.Channels ?? throw new ModelFileException(path, entry, "$.preprocessing.channels", "missing");
        float scale = pre.Scale ?? throw new ModelFileException(path, entry, "$.preprocessing.scale", "missing");
        ChannelOrder order = Enum.TryParse(pre.ChannelOrder, ignoreCase: false, out ChannelOrder o) && Enum.IsDefined(o) ? o
            : throw new ModelFileException(path, entry, "$.preprocessing.channel_order", $"'{pre.ChannelOrder}' is not one of {string.Join(", ", Enum.GetNames<ChannelOrder>())}");
        ResizeMode resize = Enum.TryParse(pre.ResizeMode, ignoreCase: false, out ResizeMode r) && Enum.IsDefined(r) ? r
            : throw new ModelFileException(path, entry, "$.preprocessing.resize_mode", $"'{pre.ResizeMode}' is not one of {string.Join(", ", Enum.GetNames<ResizeMode>())}");
        try
        {
            var layout = new TensorLayoutOptions
            {
                Width = pre.Width,
                Height = pre.Height,
                Channels = channels,
                ChannelOrder = order,
                Scale = scale,
                ResizeMode = resize,
                Mean = [.. pre.Mean],
                Std = [.. pre.Std],
            };
            layout.Validate();
            return layout;
        }
        catch (ArgumentException e)
        {
            throw new ModelFileException(path, entry, "$.preprocessing", "the backbone input layout is invalid: " + e.Message, e);
        }
    }
}
