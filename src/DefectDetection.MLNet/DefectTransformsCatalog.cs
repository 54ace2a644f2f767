using DefectDetection.MLNet.Transforms;
using DefectDetection.Models;
using DefectDetection.Pipeline;
using Microsoft.ML;

namespace DefectDetection.MLNet;

/// <summary>The library's transforms on <c>mlContext.Transforms</c>.</summary>
public static class DefectTransformsCatalog
{
    /// <summary>
    /// Turns each image into the pooled features of an ONNX backbone (a fixed-length vector column), for any ML.NET
    /// trainer to learn from.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">The backbone and pooling.</param>
    /// <param name="outputColumnName">The vector column written. Default <see cref="DefectColumnNames.Features"/>.</param>
    /// <param name="inputColumnName">The image column: file paths (text) or <see cref="Microsoft.ML.Data.MLImage"/> values. Default <see cref="DefectColumnNames.ImagePath"/>.</param>
    /// <exception cref="FileNotFoundException">The backbone file does not exist.</exception>
    public static ImageFeaturizerEstimator FeaturizeImages(this TransformsCatalog catalog, ImageFeaturizerOptions options,
        string outputColumnName = DefectColumnNames.Features, string inputColumnName = DefectColumnNames.ImagePath)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new ImageFeaturizerEstimator(outputColumnName, inputColumnName, options);
    }

    /// <summary>
    /// Scores each image with a trained model of the library (any learner), adding <see cref="DefectColumnNames.Score"/>,
    /// <see cref="DefectColumnNames.PredictedLabel"/>, <see cref="DefectColumnNames.Probability"/> and
    /// <see cref="DefectColumnNames.PredictedClass"/>. The caller keeps owning <paramref name="model"/>.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="model">The model (for example from <c>DefectModel.Load</c>).</param>
    /// <param name="imageColumnName">The image column. Default <see cref="DefectColumnNames.ImagePath"/>.</param>
    public static DefectModelEstimator ApplyDefectModel(this TransformsCatalog catalog, IDefectModel model, string imageColumnName = DefectColumnNames.ImagePath)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new DefectModelEstimator(model, imageColumnName);
    }

    /// <summary>
    /// Inspects each image with the pipeline of a pipeline file (region detector and crop classifiers), adding
    /// <see cref="DefectColumnNames.PredictedLabel"/>, <see cref="DefectColumnNames.Probability"/>,
    /// <see cref="DefectColumnNames.DefectCount"/> and <see cref="DefectColumnNames.Inspection"/>. Saved models keep the
    /// file's full path (the file and the models it names must stay there).
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="pipelineFile">The pipeline file (see <c>PipelineFile.Load</c>).</param>
    /// <param name="imageColumnName">The image column. Default <see cref="DefectColumnNames.ImagePath"/>.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static DefectPipelineEstimator InspectImages(this TransformsCatalog catalog, string pipelineFile, string imageColumnName = DefectColumnNames.ImagePath)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrEmpty(pipelineFile);
        return new DefectPipelineEstimator(null, pipelineFile, imageColumnName);
    }

    /// <summary>
    /// Inspects each image with a pipeline built in code (the caller keeps owning it). Such a transform cannot be saved;
    /// use the overload taking a pipeline file for that.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="pipeline">The pipeline.</param>
    /// <param name="imageColumnName">The image column. Default <see cref="DefectColumnNames.ImagePath"/>.</param>
    public static DefectPipelineEstimator InspectImages(this TransformsCatalog catalog, IDefectPipeline pipeline, string imageColumnName = DefectColumnNames.ImagePath)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(pipeline);
        return new DefectPipelineEstimator(pipeline, null, imageColumnName);
    }
}

/// <summary>The library's anomaly trainer on <c>mlContext.AnomalyDetection.Trainers</c>.</summary>
public static class DefectAnomalyDetectionCatalog
{
    /// <summary>
    /// The PatchCore-class anomaly detector: learns a memory bank of the normal images' patch features; its
    /// <see cref="DefectColumnNames.Score"/> and <see cref="DefectColumnNames.PredictedLabel"/> columns feed
    /// <c>mlContext.AnomalyDetection.Evaluate</c>.
    /// </summary>
    /// <param name="catalog">The anomaly trainers catalog.</param>
    /// <param name="options">The image and label columns and the PatchCore settings.</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public static PatchCoreEstimator PatchCore(this AnomalyDetectionCatalog.AnomalyDetectionTrainers catalog, PatchCoreEstimatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new PatchCoreEstimator(options);
    }
}
