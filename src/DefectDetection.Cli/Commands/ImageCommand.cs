using System.CommandLine;
using System.Text.Json;
using DefectDetection.Imaging;

namespace DefectDetection.Cli.Commands;

/// <summary><c>defect image info|convert</c>: inspect and convert image files.</summary>
internal static class ImageCommand
{
    public static Command Create(CliContext context)
    {
        Command image = new("image", "Inspect and convert image files (JPEG, PNG, BMP, PNM).");

        Argument<FileInfo> infoFile = new("FILE") { Description = "The image file to describe." };
        Option<bool> json = new("--json") { Description = "Write JSON for machines instead of text." };
        Command info = new("info", "Print format, size, channels, bit depth and orientation of an image.") { infoFile, json };
        info.SetAction(parse => context.Guard(() => Info(context, parse.GetValue(infoFile)!, parse.GetValue(json))));
        image.Subcommands.Add(info);

        Argument<FileInfo> input = new("IN") { Description = "The image to read." };
        Argument<FileInfo> output = new("OUT") { Description = "The file to write; its extension (.png, .ppm, .pgm) chooses the format." };
        Option<bool> noOrient = new("--keep-orientation") { Description = "Do not apply the EXIF orientation." };
        Option<bool> overwrite = new("--overwrite") { Description = OutputPlan.OverwriteHelp };
        Command convert = new("convert", "Convert an image to PNG, PPM or PGM (an existing OUT is replaced only with --overwrite).") { input, output, noOrient, overwrite };
        convert.SetAction(parse => context.Guard(() =>
            Convert(context, parse.GetValue(input)!, parse.GetValue(output)!, !parse.GetValue(noOrient), parse.GetValue(overwrite))));
        image.Subcommands.Add(convert);
        return image;
    }

    private static int Info(CliContext context, FileInfo file, bool json)
    {
        ImageInfo info = ImageCodecs.Identify(RequireFile(file));
        if (json)
        {
            var payload = new Dictionary<string, object?>
            {
                ["file"] = file.FullName,
                ["format"] = info.Format.ToString().ToLowerInvariant(),
                ["width"] = info.Width,
                ["height"] = info.Height,
                ["channels"] = info.Channels,
                ["bit_depth"] = info.BitDepth,
                ["pixel_format"] = info.PixelFormat.ToString(),
                ["orientation"] = (int)info.Orientation,
                ["display_width"] = info.DisplayWidth,
                ["display_height"] = info.DisplayHeight,
                ["details"] = info.Details,
            };
            context.Out.WriteLine(JsonSerializer.Serialize(payload, CliJson.Options));
        }
        else
        {
            context.Out.WriteLine($"file:        {file.FullName}");
            context.Out.WriteLine($"format:      {info.Format.ToString().ToUpperInvariant()}");
            context.Out.WriteLine($"size:        {info.Width} x {info.Height}");
            context.Out.WriteLine($"channels:    {info.Channels} ({info.BitDepth}-bit), decodes to {info.PixelFormat}");
            context.Out.WriteLine($"orientation: {(int)info.Orientation} ({info.Orientation}), displayed {info.DisplayWidth} x {info.DisplayHeight}");
            if (info.Details is not null)
            {
                context.Out.WriteLine($"details:     {info.Details}");
            }
        }

        return CliContext.Ok;
    }

    private static int Convert(CliContext context, FileInfo input, FileInfo output, bool applyOrientation, bool overwrite)
    {
        string source = RequireFile(input);
        _ = ImageCodecs.GetEncoder(output.FullName); // Fails early on an unknown extension.
        OutputPlan outputs = new([source], overwrite);
        string target = outputs.Claim(output.FullName, "OUT");
        using Image image = ImageCodecs.Load(source, new DecoderOptions { ApplyExifOrientation = applyOrientation });
        outputs.Save(image, target);
        context.Out.WriteLine($"wrote {target} ({image.Width} x {image.Height} {image.PixelFormat})");
        return CliContext.Ok;
    }

    internal static string RequireFile(FileInfo file) =>
        file.Exists ? file.FullName
        : Directory.Exists(file.FullName) ? throw new FileNotFoundException($"'{file.FullName}' is a folder, not a file.", file.FullName)
        : throw new FileNotFoundException($"File not found: {file.FullName}", file.FullName);
}
