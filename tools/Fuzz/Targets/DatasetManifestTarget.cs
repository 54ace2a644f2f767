using System.Text;
using DefectDetection.Datasets;

namespace DefectDetection.Fuzzing;

/// <summary>
/// The dataset list readers: an input starting with <c>{</c> is a Lookout for Vision / Ground Truth manifest
/// (<see cref="ImageDataset.FromManifest"/>), anything else a CSV list (<see cref="ImageDataset.FromCsv"/>). Both
/// document <see cref="DatasetException"/>. Files are written to a temporary folder.
/// </summary>
internal sealed class DatasetManifestTarget : FuzzTarget
{
    private readonly string _folder = Directory.CreateTempSubdirectory("defect-fuzz-manifest-").FullName;

    public override string Name => "manifest";

    public override InputKind Kind => InputKind.Lines;

    public override IReadOnlyList<byte[]> Seeds() =>
    [
        Encoding.UTF8.GetBytes("""
            {"source-ref":"s3://bucket/images/good/1.png","anomaly-label":0,"anomaly-label-metadata":{"class-name":"normal","type":"groundtruth/image-classification"}}
            {"source-ref":"images/bad/2.png","anomaly-label":1,"anomaly-label-metadata":{"class-name":"anomaly"},"anomaly-mask-ref":"masks/2.png","anomaly-mask-ref-metadata":{"internal-color-map":{"0":{"class-name":"BACKGROUND","hex-color":"#ffffff"},"1":{"class-name":"scratch","hex-color":"#ff0000"}}}}

            {"source-ref":"images/3.png","anomaly-label":"normal"}
            """),
        Encoding.UTF8.GetBytes("""
            {"source-ref":"a.png","boxes":{"annotations":[{"class_id":0,"left":1,"top":2,"width":3,"height":4}],"image_size":[{"width":10,"height":10,"depth":3}]},"boxes-metadata":{"type":"groundtruth/object-detection","class-map":{"0":"scratch"}},"anomaly-label":"anomaly"}
            """),
        Encoding.UTF8.GetBytes("path,label,mask\nimages/a.png,normal,\n\"images/b, c.png\",anomaly,masks/b.png\n# comment\n\nimages/d.png,\"scr\"\"atch\"\n"),
        Encoding.UTF8.GetBytes("a.png,good\nb.png,bad\n"),
    ];

    public override void Run(byte[] input)
    {
        int first = Array.FindIndex(input, b => b is not (byte)' ' and not (byte)'\t' and not (byte)'\r' and not (byte)'\n');
        bool manifest = first >= 0 && input[first] == (byte)'{';
        string path = Path.Combine(_folder, manifest ? "train.manifest" : "list.csv");
        File.WriteAllBytes(path, input);
        _ = manifest ? ImageDataset.FromManifest(path, new ManifestOptions { ImageRoot = _folder }) : ImageDataset.FromCsv(path);
    }

    public override bool IsDocumented(Exception e) => e is DatasetException;

    public override void Dispose() => Directory.Delete(_folder, recursive: true);
}
