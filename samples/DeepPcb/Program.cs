using System.Globalization;
using DefectDetection.Samples.DeepPcb;

// DeepPCB with the template-difference detector and crop classifier:
//   dotnet run --project samples/DeepPcb -c Release -- [--data FOLDER] [--limit N] [--threads N] [--json FILE]
string data = Path.Combine("..", "shared", "datasets", "deeppcb");
int limit = 0, trainLimit = 0, threads = 2;
string? json = null;
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
        case "shift": ShiftDiag.Run(args[1], args[2]); return 0;
        case "side": Side.Run(args[1], args[2], args[3]); return 0;
        case "explore": Explore.Run(args[1], int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture), int.Parse(args[4], CultureInfo.InvariantCulture), int.Parse(args[5], CultureInfo.InvariantCulture), int.Parse(args[6], CultureInfo.InvariantCulture)); return 0;
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

DeepPcbResult result = new DeepPcbExperiment(new DeepPcbOptions { DatasetFolder = data, Limit = limit, TrainLimit = trainLimit, Threads = threads, Log = Console.Out }).Run();
ResultsTable.Print(result, Console.Out);
if (json is not null)
{
    ResultsTable.WriteJson(result, json);
    Console.WriteLine($"wrote {json}");
}

return 0;
