namespace DefectDetection.Metrics;

/// <summary>Computes <see cref="ClassificationMetrics"/> from true and predicted labels, or from binary scores.</summary>
public static class ClassificationEvaluator
{
    /// <summary>
    /// Accuracy, per-label precision/recall/F1 with support, macro F1 and the confusion matrix. A label never
    /// predicted has precision 0; a label with no sample has recall 0; both still count in the macro F1.
    /// </summary>
    /// <param name="actual">True label of each sample.</param>
    /// <param name="predicted">Predicted label of each sample.</param>
    /// <param name="labels">All labels, in the order wanted; null: the distinct labels of both lists in ordinal order.</param>
    /// <exception cref="ArgumentException">The lists are empty or differ in length, or a label is not in <paramref name="labels"/>.</exception>
    public static ClassificationMetrics Evaluate(IReadOnlyList<string> actual, IReadOnlyList<string> predicted, IReadOnlyList<string>? labels = null)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(predicted);
        if (actual.Count != predicted.Count)
        {
            throw new ArgumentException($"There are {actual.Count} true labels but {predicted.Count} predictions.", nameof(predicted));
        }

        if (actual.Count == 0)
        {
            throw new ArgumentException("No samples to evaluate.", nameof(actual));
        }

        string[] names = labels?.Distinct(StringComparer.Ordinal).ToArray()
            ?? actual.Concat(predicted).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        Dictionary<string, int> index = new(StringComparer.Ordinal);
        for (int i = 0; i < names.Length; i++)
        {
            index[names[i]] = i;
        }

        int k = names.Length;
        int[][] matrix = new int[k][];
        for (int i = 0; i < k; i++)
        {
            matrix[i] = new int[k];
        }

        for (int i = 0; i < actual.Count; i++)
        {
            int a = Lookup(index, actual[i], i, nameof(actual));
            int p = Lookup(index, predicted[i], i, nameof(predicted));
            matrix[a][p]++;
        }

        return FromMatrix(names, matrix);
    }

    /// <summary>
    /// Binary evaluation from scores of the positive label: the thresholded figures of <see cref="Evaluate"/>
    /// (a sample is predicted positive when <c>score &gt;= threshold</c>), plus ROC AUC and PR AUC (average precision).
    /// </summary>
    /// <param name="positives">True when a sample truly has <paramref name="positiveLabel"/>.</param>
    /// <param name="scores">Score of the positive label per sample (higher = more likely positive).</param>
    /// <param name="threshold">The decision threshold; null: chosen on these samples by <paramref name="thresholdOptions"/> (optimistic: prefer a threshold chosen on validation data).</param>
    /// <param name="positiveLabel">Name of the positive label. Default <c>anomaly</c>.</param>
    /// <param name="negativeLabel">Name of the negative label. Default <c>normal</c>.</param>
    /// <param name="thresholdOptions">The rule used when <paramref name="threshold"/> is null.</param>
    /// <exception cref="ArgumentException">The inputs are empty, differ in length, hold NaN scores, or a threshold must be chosen without any positive.</exception>
    public static ClassificationMetrics EvaluateBinary(
        ReadOnlySpan<bool> positives,
        ReadOnlySpan<double> scores,
        double? threshold = null,
        string positiveLabel = "anomaly",
        string negativeLabel = "normal",
        ThresholdOptions? thresholdOptions = null)
    {
        if (string.Equals(positiveLabel, negativeLabel, StringComparison.Ordinal))
        {
            throw new ArgumentException("The positive and negative labels must differ.", nameof(negativeLabel));
        }

        double roc = BinaryMetrics.RocAuc(scores, positives);
        double ap = BinaryMetrics.AveragePrecision(scores, positives);
        double t = threshold ?? BinaryMetrics.SelectThreshold(scores, positives, thresholdOptions);
        if (double.IsNaN(t))
        {
            throw new ArgumentException("The threshold is NaN.", nameof(threshold));
        }

        // Row/column 0 = negative, 1 = positive.
        int[][] matrix = [new int[2], new int[2]];
        for (int i = 0; i < scores.Length; i++)
        {
            matrix[positives[i] ? 1 : 0][scores[i] >= t ? 1 : 0]++;
        }

        ClassificationMetrics m = FromMatrix([negativeLabel, positiveLabel], matrix);
        return new ClassificationMetrics
        {
            Count = m.Count,
            Labels = m.Labels,
            Accuracy = m.Accuracy,
            MacroF1 = m.MacroF1,
            PerLabel = m.PerLabel,
            ConfusionMatrix = m.ConfusionMatrix,
            PositiveLabel = positiveLabel,
            RocAuc = roc,
            PrAuc = ap,
            Threshold = t,
        };
    }

    /// <summary>Builds the metrics from a confusion matrix (row = true label, column = predicted label).</summary>
    /// <exception cref="ArgumentException">The matrix is not square, does not match the labels, holds a negative count, or is all zero.</exception>
    public static ClassificationMetrics FromConfusionMatrix(IReadOnlyList<string> labels, int[][] matrix)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(matrix);
        if (matrix.Length != labels.Count || matrix.Any(r => r is null || r.Length != labels.Count))
        {
            throw new ArgumentException($"The matrix must be {labels.Count}x{labels.Count}, one row and column per label.", nameof(matrix));
        }

        if (matrix.Any(r => r.Any(v => v < 0)))
        {
            throw new ArgumentException("The matrix holds a negative count.", nameof(matrix));
        }

        if (matrix.Sum(r => r.Sum(v => (long)v)) == 0)
        {
            throw new ArgumentException("No samples to evaluate.", nameof(matrix));
        }

        return FromMatrix(labels.ToArray(), matrix.Select(r => r.ToArray()).ToArray());
    }

    private static ClassificationMetrics FromMatrix(string[] names, int[][] matrix)
    {
        int k = names.Length;
        long total = 0, correct = 0;
        for (int i = 0; i < k; i++)
        {
            for (int j = 0; j < k; j++)
            {
                total += matrix[i][j];
            }

            correct += matrix[i][i];
        }

        Dictionary<string, LabelMetrics> perLabel = new(StringComparer.Ordinal);
        double f1Sum = 0;
        for (int c = 0; c < k; c++)
        {
            long tp = matrix[c][c], support = 0, predictedCount = 0;
            for (int j = 0; j < k; j++)
            {
                support += matrix[c][j];
                predictedCount += matrix[j][c];
            }

            double precision = predictedCount == 0 ? 0 : (double)tp / predictedCount;
            double recall = support == 0 ? 0 : (double)tp / support;
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            f1Sum += f1;
            perLabel[names[c]] = new LabelMetrics { Precision = precision, Recall = recall, F1 = f1, Support = (int)support };
        }

        return new ClassificationMetrics
        {
            Count = (int)total,
            Labels = names,
            Accuracy = (double)correct / total,
            MacroF1 = k == 0 ? double.NaN : f1Sum / k,
            PerLabel = perLabel,
            ConfusionMatrix = matrix,
        };
    }

    private static int Lookup(Dictionary<string, int> index, string label, int sample, string paramName) =>
        label is not null && index.TryGetValue(label, out int i)
            ? i
            : throw new ArgumentException($"Sample {sample} has the label '{label}', which is not among the labels given.", paramName);
}
