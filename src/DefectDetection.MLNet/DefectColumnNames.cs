namespace DefectDetection.MLNet;

/// <summary>The column names this package reads and writes by default.</summary>
public static class DefectColumnNames
{
    /// <summary>The image file path (text) of a loaded dataset; the default image column of the transforms.</summary>
    public const string ImagePath = "ImagePath";

    /// <summary>The dataset's label (text), what multiclass trainers learn after <c>MapValueToKey</c>.</summary>
    public const string Label = "Label";

    /// <summary>True when the row's label is not a normal label (boolean): the label of binary trainers and evaluators.</summary>
    public const string IsDefect = "IsDefect";

    /// <summary>1 when the row's label is not a normal label, else 0 (single-precision): the label <c>mlContext.AnomalyDetection.Evaluate</c> reads.</summary>
    public const string AnomalyLabel = "AnomalyLabel";

    /// <summary>The pixel mask file of a loaded dataset (text; empty when the image has none).</summary>
    public const string MaskPath = "MaskPath";

    /// <summary>A featurizer's output vector (single-precision).</summary>
    public const string Features = "Features";

    /// <summary>The model's raw score (single-precision), higher is more defective: what <c>AnomalyDetection.Evaluate</c> ranks.</summary>
    public const string Score = "Score";

    /// <summary>The verdict (boolean, true = defect), as ML.NET's binary and anomaly evaluators read it.</summary>
    public const string PredictedLabel = "PredictedLabel";

    /// <summary>The calibrated confidence that the image is a defect (single-precision, 0.5 at the threshold).</summary>
    public const string Probability = "Probability";

    /// <summary>The model's predicted label (text: <c>normal</c>/<c>anomaly</c> for anomaly models, a class for classifiers).</summary>
    public const string PredictedClass = "PredictedClass";

    /// <summary>The number of located defects of a pipeline inspection (32-bit integer).</summary>
    public const string DefectCount = "DefectCount";

    /// <summary>A pipeline inspection as the library's JSON report (text, the schema of <c>docs/prediction.schema.json</c>).</summary>
    public const string Inspection = "Inspection";
}
