namespace DefectDetection.Vision;

/// <summary>
/// Training images' defect scores from models that did not learn them (a classifier's held-out folds; an anomaly
/// model's normals scored out of fold and its labelled defects, which it never learns): what the learner choice
/// compares and combines.
/// </summary>
/// <param name="Paths">The images.</param>
/// <param name="Scores">Their scores (higher is more defective), in the order of <paramref name="Paths"/>.</param>
internal sealed record OutOfFoldScores(IReadOnlyList<string> Paths, IReadOnlyList<double> Scores);
