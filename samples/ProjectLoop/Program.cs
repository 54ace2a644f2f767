using DefectDetection.Projects;

// The Lookout for Vision loop on the cookies (../shared), in a project folder: train v1 on half the training images,
// run a trial on the other half, verify it from the known labels, accept the verified images into the dataset, retrain
// v2, and compare the two versions on the test images.
// Usage: ProjectLoop [--shared DIR] [--out DIR] [--weight-free]
string shared = Option("--shared") ?? Path.GetFullPath("../shared");
string output = Path.GetFullPath(Option("--out") ?? "project-loop-output");
string cookies = Path.Combine(shared, "datasets", "lfv-cookies");
string training = Path.Combine(cookies, "dataset-files", "training-images");
string? backbone = args.Contains("--weight-free") ? null : Path.Combine(shared, "models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx");

// A fresh project each run (only a project this sample made is replaced).
string folder = Path.Combine(output, "cookies");
if (File.Exists(Path.Combine(folder, DefectProject.CatalogFileName)))
{
    using (DefectProject old = DefectProject.Open(folder))
    {
        if (old.Name != "cookies-loop")
        {
            throw new InvalidOperationException($"{folder} holds another project; pass --out elsewhere.");
        }
    }

    Directory.Delete(folder, recursive: true);
}

using DefectProject project = DefectProject.Create(folder, new ProjectOptions { Name = "cookies-loop" });

// 1. The dataset: the odd-numbered training images (a CSV list with the anomalies' masks) and the test images.
Directory.CreateDirectory(output);
string[] firstHalf = [.. Images("normal", 31, odd: true), .. Images("anomaly", 32, odd: true)];
string[] secondHalf = [.. Images("normal", 31, odd: false), .. Images("anomaly", 32, odd: false)];
string list = Path.Combine(output, "first-half.csv");
File.WriteAllLines(list, ["path,label,mask", .. firstHalf.Select(f => $"{f},{LabelOf(f)},{MaskOf(f)}")]);
ImportResult train = project.Dataset.Import(new ImportOptions { Source = list });
ImportResult test = project.Dataset.Import(new ImportOptions { Source = Path.Combine(cookies, "test-images"), Split = EntrySplit.Test });
Console.WriteLine($"dataset: {train.Added.Count} training images ({train.Layout}), {test.Added.Count} test images ({test.Layout})");

// 2. v1 on the first half (the learner follows from the labels: normal and anomaly, so a classifier).
ModelVersion v1 = project.Models.Train(new ModelTrainOptions { Backbone = backbone });
Console.WriteLine($"v1: {v1.Learner} on {v1.TrainImages} images, {v1.TrainingSeconds:F1} s, test accuracy {v1.Metrics!.Accuracy:P1}");

// 3. A trial of the active version (v1) on the second half.
Trial trial = project.Trials.Run(secondHalf);
Console.WriteLine($"trial {trial.Number}: {trial.Results.Count} images, {trial.Results.Count(r => r.IsDefect)} judged defects");

// 4. Verification: a person would look at each overlay; here the file names say the truth.
foreach (TrialResult r in trial.Results)
{
    project.Trials.Verify(r.Id, new VerificationInput { TrueLabel = LabelOf(r.Source), MaskPath = MaskOf(r.Source) });
}

Trial verified = project.Trials.Get(trial.Number);
Console.WriteLine($"verified {verified.Verified}: {verified.Results.Count(r => r.Verification!.Correct)} correct, {verified.Results.Count(r => !r.Verification!.Correct)} wrong");

// 5. Accept the verified images into the training set, retrain v2 on the whole dataset and make it active.
AcceptResult accepted = project.Trials.Accept(trial.Number);
ModelVersion v2 = project.Models.Retrain(activate: true);
Console.WriteLine($"accepted {accepted.Added.Count}; v2: {v2.Learner} on {v2.TrainImages} images, {v2.TrainingSeconds:F1} s");

// 6. Compare: the metric table side by side and the test images whose verdict changed.
VersionComparison c = project.Models.Compare(1, 2);
Console.WriteLine();
Console.WriteLine($"{"",-12} {"v1",8} {"v2",8}");
Row("accuracy", m => m.Accuracy);
Row("precision", m => m.Precision);
Row("recall", m => m.Recall);
Row("F1", m => m.F1);
Row("ROC AUC", m => m.RocAuc ?? double.NaN);
Console.WriteLine($"{c.Changed.Count} of {c.CommonTestImages} test images changed verdict");
foreach (ChangedVerdict x in c.Changed)
{
    Console.WriteLine($"  {Path.GetFileName(x.Source)} ({x.TrueLabel}): v1 {(x.A.IsDefect ? "defect" : "good")}, v2 {(x.B.IsDefect ? "defect" : "good")}");
}

// The catalog now holds both versions, the trial, its verifications and each version's exact dataset.
ProjectSummary s = project.GetSummary();
Console.WriteLine();
Console.WriteLine($"project {s.Folder}: versions {string.Join(", ", project.Models.List().Select(v => $"{v.Name} {v.Status.ToString().ToLowerInvariant()}{(v.IsActive ? " (active)" : "")}"))}; " +
    $"{s.Trials} trial; {project.Dataset.Count(new DatasetQuery { Verified = true })} verified entries; " +
    $"v1 trained on {project.Models.EntriesOf(1).Count(e => e.Split == EntrySplit.Train)} entries, v2 on {project.Models.EntriesOf(2).Count(e => e.Split == EntrySplit.Train)}");
Console.WriteLine($"try: defect model compare v1 v2 --project {folder}");

void Row(string name, Func<TestMetrics, double> value) =>
    Console.WriteLine(FormattableString.Invariant($"{name,-12} {value(c.A.Metrics!),8:F3} {value(c.B.Metrics!),8:F3}"));

IEnumerable<string> Images(string label, int count, bool odd) =>
    Enumerable.Range(1, count).Where(i => (i % 2 == 1) == odd).Select(i => Path.Combine(training, $"{label}-{i}.jpg"));

static string LabelOf(string path) => Path.GetFileName(path).Contains("anomaly", StringComparison.Ordinal) ? "anomaly" : "normal";

string? MaskOf(string path) => LabelOf(path) == "anomaly" ? Path.Combine(cookies, "dataset-files", "mask-images", Path.GetFileNameWithoutExtension(path) + ".png") : null;

string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
