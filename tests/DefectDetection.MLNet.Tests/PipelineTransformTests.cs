using DefectDetection.Imaging;
using DefectDetection.MLNet.Transforms;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Roi;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace DefectDetection.MLNet.Tests;

public sealed class PipelineTransformTests(SyntheticModels synthetic) : IClassFixture<SyntheticModels>
{
    [Fact]
    public void PipelineFromAFile_AddsTheInspectionColumns_AndRoundTrips()
    {
        synthetic.Variation.Save(Path.Combine(synthetic.Folder, "variation.ddmodel"), new DefectModelSaveOptions { Overwrite = true });
        string file = Path.Combine(synthetic.Folder, "pipeline.json");
        File.WriteAllText(file, """{ "detector": { "type": "whole-image" }, "classifiers": { "default": "variation.ddmodel" } }""");
        MLContext ml = new();
        IDataView data = ml.Data.LoadFromEnumerable(synthetic.Images.Select(p => new PersistenceTests.ImageInput { ImagePath = p }));
        using DefectPipelineTransformer transformer = ml.Transforms.InspectImages(file).Fit(data);
        IDataView inspected = transformer.Transform(data);

        // The reference: the same pipeline run directly.
        using DefectPipeline direct = new(new WholeImageRoiDetector(), synthetic.Variation);
        bool[] verdicts = [.. inspected.GetColumn<bool>(DefectColumnNames.PredictedLabel)];
        int[] counts = [.. inspected.GetColumn<int>(DefectColumnNames.DefectCount)];
        string[] reports = [.. inspected.GetColumn<string>(DefectColumnNames.Inspection)];
        for (int i = 0; i < synthetic.Images.Count; i++)
        {
            using Image image = ImageCodecs.Load(synthetic.Images[i]);
            InspectionResult expected = direct.Inspect(image.View());
            Assert.Equal(expected.IsAnomalous, verdicts[i]);
            Assert.Equal(expected.Defects.Count, counts[i]);
            Assert.Equal(i % 2 == 1, verdicts[i]);
            PredictionReport report = Assert.Single(PredictionReport.FromJson(reports[i]));
            Assert.Equal(expected.IsAnomalous, report.IsDefect);
            Assert.Equal(expected.Defects.Count, report.Defects.Count);
        }

        using MemoryStream stream = new();
        ml.Model.SaveWithDefectDetection(transformer, data.Schema, stream);
        stream.Position = 0;
        ITransformer loaded = ml.Model.LoadWithDefectDetection(stream, out _);
        using (loaded as IDisposable)
        {
            Assert.Equal(verdicts, loaded.Transform(data).GetColumn<bool>(DefectColumnNames.PredictedLabel).ToArray());
        }
    }

    [Fact]
    public void PipelineBuiltInCode_RunsButCannotBeSaved()
    {
        MLContext ml = new();
        IDataView data = ml.Data.LoadFromEnumerable(synthetic.Images.Select(p => new PersistenceTests.ImageInput { ImagePath = p }));
        using DefectPipeline pipeline = new(new WholeImageRoiDetector(), synthetic.Variation);
        using DefectPipelineTransformer transformer = ml.Transforms.InspectImages(pipeline).Fit(data);
        Assert.Equal(3, transformer.Transform(data).GetColumn<bool>(DefectColumnNames.PredictedLabel).Count(v => v));
        NotSupportedException e = Assert.Throws<NotSupportedException>(() => ml.Model.SaveWithDefectDetection(transformer, data.Schema, new MemoryStream()));
        Assert.Contains("pipeline file", e.Message, StringComparison.Ordinal);
    }
}
