using System.Globalization;
using DefectDetection.Samples.DeepPcb;

// DeepPCB (aligned template/test pairs with typed defect boxes) with the template-difference detector and crop
// classifier: trains on train.txt, inspects test.txt through DefectPipeline, prints per-type and overall figures.
//   dotnet run --project tools/experiments/DeepPcb -c Release -- [--data FOLDER] [--limit N] [--train N] [--threads N]
//                                                      [--json FILE] [--diag] [--save-model FILE]
// --save-model writes the trained classifier as a .ddmodel file, usable in a pipeline file ("classifiers") together
// with a "template-difference" detector (MaxShift 16, tolerance 2, merge_distance 2, min_area 2, box_margin 0,
// min_box_size 30 as here).
string data = Path.Combine("..", "shared", "datasets", "deeppcb");
int limit = 0, trainLimit = 0, threads = 2;
bool diag = false;
string? json = null, saveModel = null;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    switch (args[i])
    {
        case "--data": data = Next(); break;
        case "--limit": limit = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--train": trainLimit = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--json": json = Next(); break;
        case "--diag": diag = true; break;
        case "--save-model": saveModel = Next(); break;
        default:
            Console.Error.WriteLine($"unknown argument '{args[i]}'");
            return 2;
    }
}

if (!File.Exists(Path.Combine(data, "test.txt")))
{
    Console.Error.WriteLine($"DeepPCB not found in '{data}' (use --data FOLDER).");
    return 1;
}

DeepPcbOptions options = new() { DatasetFolder = data, Limit = limit, TrainLimit = trainLimit, Threads = threads, Diagnostics = diag, SaveModelPath = saveModel, Log = Console.Out };
DeepPcbResult result = new DeepPcbExperiment(options).Run();
ResultsTable.Print(result, Console.Out);
if (json is not null)
{
    ResultsTable.WriteJson(result, json);
    Console.WriteLine($"wrote {json}");
}

return 0;
