using BenchmarkDotNet.Attributes;
using DefectDetection.Vision.Backbones;
using DefectDetection.Benchmarks.Imaging;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;

namespace DefectDetection.Benchmarks.Vision;

/// <summary>
/// Scoring a batch of eight 224x224 crops with the PatchCore-class model (MobileNetV2 int8 backbone, 2 threads,
/// memory bank from 31 cookie normals cut to 224x224, 10% coreset): scores only, and with maps, masks and regions.
/// Images/s = 8 / median time. The nearest-neighbour search alone is <see cref="BankSearchBenchmarks"/>.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class AnomalyScoringBenchmarks
{
    private PatchCoreModel _model = null!;
    private ImageView[] _batch = null!;
    private List<Image> _images = null!;

    [GlobalSetup]
    public void Setup()
    {
        string shared = JpegBenchmarkFiles.SharedRoot();
        _images = Enumerable.Range(1, 31)
            .Select(i => ImageCodecs.Load(Path.Combine(JpegBenchmarkFiles.CookieFolder, $"normal-{i}.jpg")))
            .Select(img =>
            {
                using (img)
                {
                    return ImageResizer.Resize(img.View(), 224, 224);
                }
            })
            .ToList();
        var options = new PatchCoreOptions
        {
            Backbone = BackboneSpec.FromFile(Path.Combine(shared, "models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx")),
            Threads = 2,
        };
        _model = new PatchCoreTrainer(options).Fit(_images.Select(x => x.View()).ToList());
        _batch = _images.Take(8).Select(x => x.View()).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _model.Dispose();
        _images.ForEach(x => x.Dispose());
    }

    [Benchmark(Description = "PatchCore score, 8 crops 224x224, 2 threads")]
    public double[] Score() => _model.Score(_batch);

    [Benchmark(Description = "PatchCore predict (map, mask, regions), 8 crops 224x224, 2 threads")]
    public int Predict() => _model.Predict(_batch).Sum(p => p.Defects.Count);
}
