using DefectDetection.Datasets;
using DefectDetection.Models;
using DefectDetection.Onnx;
using DefectDetection.Vision;
using DefectDetection.Vision.Backbones;
using DefectDetection.Vision.PatchCore;

namespace DefectDetection.OnnxRuntime.Tests;

public sealed class BackendSelectionTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void Scopes_Nest_AndRestoreTheDefault()
    {
        CountingBackend outer = new(OnnxBackends.Managed), inner = new(OnnxBackends.Managed);
        Assert.Same(OnnxBackends.Default, OnnxBackends.Current);
        using (OnnxBackends.Use(outer))
        {
            Assert.Same(outer, OnnxBackends.Current);
            using (OnnxBackends.Use(inner))
            {
                Assert.Same(inner, OnnxBackends.Current);
            }

            Assert.Same(outer, OnnxBackends.Current);
        }

        Assert.Same(OnnxBackends.Default, OnnxBackends.Current);
        Assert.ThrowsAny<ArgumentException>(() => new OnnxRuntimeBackend(new OnnxRuntimeBackendOptions { IntraOpThreads = 0 }));
    }

    [SharedFact]
    public void AModelLoadedInAScope_RunsOnThatBackend_WithTheSameVerdicts()
    {
        // PatchCore trained on the managed engine, saved, and loaded twice: once as usual, once inside an ONNX Runtime scope.
        string cookies = SharedData.PathOf("datasets", "lfv-cookies");
        string training = Path.Combine(cookies, "dataset-files", "training-images");
        ImageDataset normals = new(Enumerable.Range(1, 12).Select(i => new LabeledImage(Path.Combine(training, $"normal-{i}.jpg"), "normal")));
        string file = Path.Combine(Path.GetTempPath(), $"ort-scope-{Guid.NewGuid():N}.ddmodel");
        try
        {
            using (IDefectModel trained = new PatchCoreTrainer(new PatchCoreOptions { Backbone = BackboneSpec.MobileNetV2Int8(SharedData.MobileNetV2Qdq), Threads = 2 }).Fit(normals))
            {
                trained.Save(file);
            }

            CountingBackend ort = new(new OnnxRuntimeBackend());
            using IDefectModel managed = DefectModel.Load(file);
            IDefectModel onOrt;
            using (OnnxBackends.Use(ort))
            {
                onOrt = DefectModel.Load(file);
            }

            using (onOrt)
            {
                Assert.True(ort.Sessions >= 1);
                string[] test = Directory.GetFiles(Path.Combine(cookies, "test-images"), "*.jpg");
                Assert.Equal(22, test.Length);
                foreach (string path in test)
                {
                    using Imaging.Image image = Imaging.ImageCodecs.Load(path);
                    DefectPrediction a = managed.Predict(image.View()), b = onOrt.Predict(image.View());
                    output.WriteLine($"{Path.GetFileName(path)}: managed {a.Score:F3} {a.IsDefect}, ONNX Runtime {b.Score:F3} {b.IsDefect}");
                    Assert.Equal(a.IsDefect, b.IsDefect);
                    // ORT's saturating AVX2 int8 kernels move the scores of a model trained on the exact features by up to 13% here.
                    Assert.True(Math.Abs(a.Score - b.Score) <= 0.15 * a.Score, $"{path}: {a.Score} against {b.Score}");
                }
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    private sealed class CountingBackend(IOnnxBackend inner) : IOnnxBackend
    {
        private int _sessions;

        public int Sessions => _sessions;

        public string Name => "counting-" + inner.Name;

        public IOnnxSession CreateSession(OnnxModel model, OnnxSessionOptions options)
        {
            Interlocked.Increment(ref _sessions);
            return inner.CreateSession(model, options);
        }
    }
}
