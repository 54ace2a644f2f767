using System.Diagnostics;
using DefectDetection.Imaging;
using DefectDetection.Projects;

// How the project catalog scales: a project of N generated images (half train, half test), two versions tested on the
// test half, then the time of `dataset list` and `model compare` in-process and through the built CLI.
// Usage: ProjectScale [--images N] [--work DIR] [--cli path/to/defect.dll]
int count = int.Parse(Option("--images") ?? "10000", System.Globalization.CultureInfo.InvariantCulture);
string work = Path.GetFullPath(Option("--work") ?? Path.Combine(Path.GetTempPath(), "defect-project-scale"));
string? cli = Option("--cli");
if (Directory.Exists(work))
{
    Directory.Delete(work, recursive: true);
}

string images = Path.Combine(work, "images");
Stopwatch sw = Stopwatch.StartNew();
for (int i = 0; i < count; i++)
{
    bool defect = i % 2 == 1;
    string folder = Path.Combine(images, defect ? "anomaly" : "normal");
    Directory.CreateDirectory(folder);
    using Image image = Texture(i, 32, defect);
    ImageCodecs.Save(image.View(), Path.Combine(folder, $"{i:D5}.png"));
}

Console.WriteLine($"generated {count} images in {sw.Elapsed.TotalSeconds:F1} s");
string folderOfProject = Path.Combine(work, "project");
using (DefectProject project = DefectProject.Create(folderOfProject))
{
    sw.Restart();
    ImportResult r = project.Dataset.Import(new ImportOptions { Source = images, TestFraction = 0.5, Seed = 1 });
    Console.WriteLine($"import: {r.Added.Count} entries in {sw.Elapsed.TotalSeconds:F1} s");
    sw.Restart();
    ModelVersion v1 = project.Models.Train(new ModelTrainOptions { Seed = 1 });
    Console.WriteLine($"v1: {v1.TrainImages} train, {v1.TestImages} test, {sw.Elapsed.TotalSeconds:F1} s, accuracy {v1.Metrics!.Accuracy:P1}");
    project.Dataset.Relabel([.. project.Dataset.List(new DatasetQuery { Split = EntrySplit.Train, Label = "normal", Limit = count / 10 }).Select(e => e.Id)], "anomaly");
    sw.Restart();
    ModelVersion v2 = project.Models.Retrain();
    Console.WriteLine($"v2: {sw.Elapsed.TotalSeconds:F1} s, accuracy {v2.Metrics!.Accuracy:P1}");

    Console.WriteLine();
    Console.WriteLine("in-process (median of 5, after one warm-up):");
    Measure("Dataset.List() (all entries)", () => project.Dataset.List().Count);
    Measure("Dataset.List(limit 100, label filter)", () => project.Dataset.List(new DatasetQuery { Label = "anomaly", Limit = 100 }).Count);
    Measure("Dataset.Count()", () => project.Dataset.Count());
    Measure("Models.Compare(1, 2)", () => project.Models.Compare(1, 2).Changed.Count);
}

if (cli is not null)
{
    Console.WriteLine();
    Console.WriteLine("the CLI as a new process (wall time including start-up; median of 5):");
    MeasureCli("defect dataset list --json", "dataset", "list", "--json", "--project", folderOfProject);
    MeasureCli("defect dataset list", "dataset", "list", "--project", folderOfProject);
    MeasureCli("defect model compare v1 v2", "model", "compare", "v1", "v2", "--project", folderOfProject);
    MeasureCli("defect model compare v1 v2 --json", "model", "compare", "v1", "v2", "--json", "--project", folderOfProject);
    MeasureCli("defect project info (start-up reference)", "project", "info", "--project", folderOfProject);
}

void Measure(string what, Func<int> action)
{
    int result = action();
    double[] ms = [.. Enumerable.Range(0, 5).Select(_ =>
    {
        Stopwatch t = Stopwatch.StartNew();
        action();
        return t.Elapsed.TotalMilliseconds;
    }).Order()];
    Console.WriteLine($"  {what,-42} {ms[2],8:F1} ms  ({result} rows)");
}

void MeasureCli(string what, params string[] arguments)
{
    double[] ms = [.. Enumerable.Range(0, 6).Select(_ =>
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(cli!);
        foreach (string a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        Stopwatch t = Stopwatch.StartNew();
        using Process p = Process.Start(start)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException(p.StandardError.ReadToEnd());
        }

        return t.Elapsed.TotalMilliseconds;
    }).Skip(1).Order()];
    Console.WriteLine($"  {what,-42} {ms[2],8:F0} ms");
}

static Image Texture(int seed, int size, bool defect)
{
    Random rng = new(seed);
    Image image = Image.Create(size, size, PixelFormat.Rgb24);
    for (int y = 0; y < size; y++)
    {
        Span<byte> row = image.GetRow(y);
        for (int x = 0; x < size; x++)
        {
            byte v = (byte)(100 + rng.Next(60));
            // Every second defect is faint (a small square a little brighter), so that versions disagree on some.
            bool faint = seed % 4 == 3;
            int side = faint ? size / 6 : size / 3;
            bool square = defect && x >= size / 3 && x < (size / 3) + side && y >= size / 3 && y < (size / 3) + side;
            row[3 * x] = square ? (faint ? (byte)(v + 25) : (byte)20) : v;
            row[(3 * x) + 1] = square ? (faint ? (byte)(v + 25) : (byte)200) : v;
            row[(3 * x) + 2] = square ? (faint ? (byte)(v + 25) : (byte)240) : v;
        }
    }

    return image;
}

string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
