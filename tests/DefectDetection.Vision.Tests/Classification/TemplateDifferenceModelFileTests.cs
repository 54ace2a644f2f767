using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.ModelFiles;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Heads;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;
using DefectDetection.Vision.PipelineFiles;
using DefectDetection.Vision.Roi;

namespace DefectDetection.Vision.Tests.Classification;

public sealed class TemplateDifferenceModelFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tdsave-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static TemplateDifferenceCropClassifier Train(TemplateDifferenceModel model) =>
        new TemplateDifferenceClassifierTrainer(new() { Tolerance = 1, MaxShift = 2, Model = model, Trees = 16, Augment = false, Context = 5, DarkThreshold = 100 })
            .Fit(TracePairs.Samples(0, 6, 192, 2), new TemplateDifferenceRoiDetector(null, TracePairs.DetectorOptions));

    // Crops to judge: the defect boxes, the detector's candidates, and a grid of boxes over the whole image.
    private static List<Rectangle> Boxes(Image test, Image reference, List<LabeledBox> defects)
    {
        List<Rectangle> boxes = [.. defects.Select(d => d.Box)];
        boxes.AddRange(new TemplateDifferenceRoiDetector(reference, TracePairs.DetectorOptions).Detect(test).Select(c => c.Box));
        for (int y = 0; y + 24 <= test.Height; y += 20)
        {
            for (int x = 0; x + 24 <= test.Width; x += 20)
            {
                boxes.Add(new Rectangle(x, y, 24, 24));
            }
        }

        return boxes;
    }

    [Theory]
    [InlineData(TemplateDifferenceModel.Forest)]
    [InlineData(TemplateDifferenceModel.Softmax)]
    public void SaveAndLoad_GiveIdenticalVerdicts(TemplateDifferenceModel model)
    {
        TemplateDifferenceCropClassifier trained = Train(model);
        string path = Path.Combine(_dir, "td.ddmodel");
        trained.Save(path);
        Assert.Throws<IOException>(() => trained.Save(path));
        trained.Save(path, new DefectModelSaveOptions { Overwrite = true });
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));

        TemplateDifferenceCropClassifier loaded = (TemplateDifferenceCropClassifier)DefectModel.Load(path);
        Assert.Equal(trained.Labels, loaded.Labels);
        Assert.Equal(trained.BoxSizes.OrderBy(kv => kv.Key), loaded.BoxSizes.OrderBy(kv => kv.Key));
        ModelManifest manifest = ModelPackage.ReadManifest(path);
        Assert.Equal(model == TemplateDifferenceModel.Forest ? "forest" : "softmax", manifest.TemplateDifference!.Model);
        Assert.Equal(5, manifest.TemplateDifference.Context);
        Assert.Equal(100, manifest.TemplateDifference.DarkThreshold);

        int defectsSeen = 0;
        for (int i = 200; i < 203; i++)
        {
            (Image test, Image reference, List<LabeledBox> defects) = TracePairs.Pair(i, 192, 2);
            using (test)
            using (reference)
            {
                List<Rectangle> boxes = Boxes(test, reference, defects);
                IReadOnlyList<CropVerdict> a = trained.WithReference(reference).Classify(test, boxes, BorderMode.Replicate);
                IReadOnlyList<CropVerdict> b = loaded.WithReference(reference).Classify(test, boxes, BorderMode.Replicate);
                Assert.Equal(boxes.Count, b.Count);
                for (int k = 0; k < boxes.Count; k++)
                {
                    Assert.Equal((a[k].Label, a[k].IsDefect, a[k].Confidence, a[k].Score), (b[k].Label, b[k].IsDefect, b[k].Confidence, b[k].Score));
                    Assert.Equal(a[k].LocalizedDefects, b[k].LocalizedDefects);
                    defectsSeen += a[k].IsDefect ? 1 : 0;
                }
            }
        }

        Assert.True(defectsSeen > 0, "the crops hold no defect verdict, so the comparison proves little");
    }

    [Fact]
    public void TruncatedOrCorruptedFiles_RaiseModelFileException()
    {
        TemplateDifferenceCropClassifier trained = Train(TemplateDifferenceModel.Forest);
        string path = Path.Combine(_dir, "td.ddmodel");
        trained.Save(path);
        byte[] bytes = File.ReadAllBytes(path);
        string bad = Path.Combine(_dir, "bad.ddmodel");
        foreach (int length in new[] { 0, 10, bytes.Length / 3, bytes.Length / 2, bytes.Length - 30, bytes.Length - 1 })
        {
            File.WriteAllBytes(bad, bytes[..length]);
            Assert.Throws<ModelFileException>(() => (TemplateDifferenceCropClassifier)DefectModel.Load(bad));
        }

        Random rng = new(5);
        for (int trial = 0; trial < 40; trial++)
        {
            byte[] flipped = (byte[])bytes.Clone();
            int at = rng.Next(flipped.Length);
            flipped[at] ^= (byte)(1 << rng.Next(8));
            File.WriteAllBytes(bad, flipped);
            try
            {
                DefectModel.Load(bad).Dispose();
            }
            catch (ModelFileException)
            {
            }
        }

        Assert.Throws<ModelFileException>(() => (TemplateDifferenceCropClassifier)DefectModel.Load(Path.Combine(_dir, "missing.ddmodel")));
    }

    [Fact]
    public void MalformedForestOrProperties_RaiseModelFileExceptionNamingTheField()
    {
        TemplateDifferenceCropClassifier trained = Train(TemplateDifferenceModel.Forest);
        string path = Path.Combine(_dir, "td.ddmodel");
        trained.Save(path);
        ModelPackage package = ModelPackage.Load(path);
        string bad = Path.Combine(_dir, "bad.ddmodel");

        // A child index that points back at the root would make prediction loop for ever.
        Dictionary<string, ModelTensor> tensors = new(package.Tensors, StringComparer.Ordinal);
        float[] left = (float[])tensors["forest/left"].Data.Clone();
        float[] feature = tensors["forest/feature"].Data;
        int inner = Array.FindIndex(feature, f => f >= 0);
        left[inner] = 0;
        tensors["forest/left"] = new ModelTensor([left.Length], left);
        new ModelPackage(package.Manifest, tensors).Save(bad, new ModelSaveOptions { Overwrite = true });
        ModelFileException e = Assert.Throws<ModelFileException>(() => (TemplateDifferenceCropClassifier)DefectModel.Load(bad));
        Assert.Equal("tensors/forest/left.f32", e.Entry);

        tensors = new(package.Tensors, StringComparer.Ordinal);
        tensors.Remove("forest/roots");
        new ModelPackage(package.Manifest, tensors).Save(bad, new ModelSaveOptions { Overwrite = true });
        e = Assert.Throws<ModelFileException>(() => (TemplateDifferenceCropClassifier)DefectModel.Load(bad));
        Assert.Contains("forest/roots", e.Message);

        foreach ((string key, System.Text.Json.Nodes.JsonNode value) in new (string, System.Text.Json.Nodes.JsonNode)[] { ("context", -3), ("model", "tree"), ("feature_length", 7), ("box_sizes", new System.Text.Json.Nodes.JsonObject { ["open"] = "x" }), ("detector", new System.Text.Json.Nodes.JsonObject { ["min_area"] = 0 }) })
        {
            ModelFileEdits.EditManifest(path, bad, m => m["template_difference"]![key] = value);
            e = Assert.Throws<ModelFileException>(() => (TemplateDifferenceCropClassifier)DefectModel.Load(bad));
            Assert.Contains(key, e.Message);
        }

        // Another learner's name with this learner's section is refused naming the missing section.
        ModelFileEdits.EditManifest(path, bad, m => m["learner"] = "image_classifier");
        e = Assert.Throws<ModelFileException>(() => DefectModel.Load(bad));
        Assert.Contains("$.image_classifier", e.Message);
    }

    [Fact]
    public void PipelineFile_WithTheSavedClassifier_FindsTheSameDefectsAsTheInMemoryPipeline()
    {
        TemplateDifferenceCropClassifier trained = Train(TemplateDifferenceModel.Forest);
        trained.Save(Path.Combine(_dir, "td.ddmodel"));
        (Image test, Image reference, List<LabeledBox> defects) = TracePairs.Pair(300, 192, 2);
        using (test)
        using (reference)
        {
            ImageCodecs.Save(reference, Path.Combine(_dir, "golden.png"));
            string json = Path.Combine(_dir, "pipeline.json");
            File.WriteAllText(json, """
                {
                  "detector": { "type": "template-difference", "reference": "golden.png", "tolerance": 1, "merge_distance": 2,
                                "min_area": 4, "box_margin": 0, "min_box_size": 24, "max_shift": 2 },
                  "classifiers": { "default": "td.ddmodel" },
                  "options": { "max_parallelism": 1 }
                }
                """);
            DefectPipeline fromFile = PipelineFile.Load(json);
            DefectPipeline inMemory = new(new TemplateDifferenceRoiDetector(reference, TracePairs.DetectorOptions), trained.WithReference(reference), new DefectPipelineOptions { MaxDegreeOfParallelism = 1 });
            IReadOnlyList<Defect> expected = inMemory.Inspect(test).Defects;
            IReadOnlyList<Defect> actual = fromFile.Inspect(test).Defects;
            Assert.NotEmpty(expected);
            Assert.Equal(expected, actual);

            // Without a template-difference detector there is no reference to bind: the error names the field.
            File.WriteAllText(json, """{ "detector": { "type": "sliding-window" }, "classifiers": { "default": "td.ddmodel" } }""");
            PipelineFileException e = Assert.Throws<PipelineFileException>(() => PipelineFile.Load(json));
            Assert.Equal("classifiers.default", e.Field);
        }
    }
}
