using System.Globalization;
using System.Text.Json;
using DefectDetection.Samples.PcbTwoStage;
using DefectDetection.Synthetic;

// Reproduces the AWS missing-hole experiment on generated boards:
//   dotnet run --project tools/experiments/PcbTwoStage -c Release -- [--train N] [--test N] [--seed S] [--small] [--validate] [--json FILE]
// --validate scores on validation boards (their own seeds) instead of the test boards: tune with it, never on test.
int train = 24, test = 50, seed = 1;
bool small = false, validate = false;
string? json = null;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    switch (args[i])
    {
        case "--train": train = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--test": test = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--small": small = true; break;
        case "--validate": validate = true; break;
        case "--json": json = Next(); break;
        default:
            Console.Error.WriteLine($"unknown argument '{args[i]}'");
            return 2;
    }
}

PcbBoardOptions board = small
    ? new PcbBoardOptions { Width = 1600, Height = 1200, ComponentCount = 18, PixelsPerMm = 12 }
    : new PcbBoardOptions();
PcbExperiment experiment = new(new PcbExperimentOptions { TrainBoards = train, TestBoards = test, Seed = seed, Board = board, Validate = validate, Log = Console.Out });
IReadOnlyList<MethodResult> results = experiment.Run();
ResultsTable.Print(results, Console.Out);
if (json is not null)
{
    ResultsTable.WriteJson(results, json);
    Console.WriteLine($"wrote {json}");
}

return 0;
