using System.Text;
using DefectDetection.ModelFiles;
using DefectDetection.Vision.PipelineFiles;

namespace DefectDetection.Fuzzing;

/// <summary>
/// <see cref="PipelineFile.Load"/> on a pipeline file written into a temporary folder that also holds a small
/// reference image (<c>ref.pgm</c>) and a variation model (<c>variation.ddmodel</c>); documents
/// <see cref="PipelineFileException"/>. The pipeline is built (models loaded) but never run.
/// </summary>
internal sealed class PipelineTarget : FuzzTarget
{
    private readonly string _folder = Directory.CreateTempSubdirectory("defect-fuzz-pipeline-").FullName;

    public PipelineTarget()
    {
        const int w = 16, h = 16;
        byte[] pixels = [.. Enumerable.Range(0, w * h).Select(i => (byte)((i % w) * 16 ^ (i / w) * 8))];
        File.WriteAllBytes(Path.Combine(_folder, "ref.pgm"), [.. Encoding.ASCII.GetBytes($"P5\n{w} {h}\n255\n"), .. pixels]);
        ModelManifest manifest = new()
        {
            Task = "anomaly",
            Labels = ["normal", "anomaly"],
            Threshold = 0.5,
            Learner = DefectDetection.Models.Learners.VariationModel,
            Variation = new VariationSection { AbsoluteBright = 20, AbsoluteDark = 20, RelativeBright = 1, RelativeDark = 1, MaxShift = 1, MapSigma = 1, MinRegionArea = 4 },
        };
        new ModelPackage(manifest, new Dictionary<string, ModelTensor>
        {
            ["mean"] = new([8, 8], [.. Enumerable.Range(0, 64).Select(i => (float)i)]),
            ["spread"] = new([8, 8], [.. Enumerable.Repeat(2f, 64)]),
        }).Save(Path.Combine(_folder, "variation.ddmodel"));
    }

    public override string Name => "pipeline";

    public override InputKind Kind => InputKind.Json;

    public override IReadOnlyList<byte[]> Seeds() =>
    [
        Encoding.UTF8.GetBytes("""
            {"detector": {"type": "sliding-window", "tile_width": 8, "tile_height": 8, "overlap": 0.25, "label": "tile"},
             "classifiers": {"default": "variation.ddmodel"}}
            """),
        Encoding.UTF8.GetBytes("""
            {"detector": {"type": "template-matching", "example_image": "ref.pgm", "example_box": [2, 2, 6, 6], "score_threshold": 0.7, "rotations": [0, 90]},
             "classifiers": {"match": {"model": "variation.ddmodel"}}}
            """),
        Encoding.UTF8.GetBytes("""
            {"detector": {"type": "template-difference", "reference": "ref.pgm", "tolerance": 1, "min_area": 4},
             "classifiers": {"default": "variation.ddmodel"}, // comments and trailing commas are allowed
            }
            """),
    ];

    public override void Run(byte[] input)
    {
        string path = Path.Combine(_folder, "pipeline.json");
        File.WriteAllBytes(path, input);
        _ = PipelineFile.Load(path);
    }

    public override bool IsDocumented(Exception e) => e is PipelineFileException;

    public override void Dispose() => Directory.Delete(_folder, recursive: true);
}
