using System.CommandLine;
using DefectDetection.Cli.Commands;
using DefectDetection.Cli.Commands.Project;

namespace DefectDetection.Cli;

/// <summary>Entry point of the <c>defect</c> command-line tool.</summary>
public static class Program
{
    /// <summary>Runs the tool; returns the process exit code (0 success, 1 failure, 2 bad input).</summary>
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the tool against the given writers (used by tests).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        RootCommand root = BuildRoot(stdout, stderr);
        ParseResult parse = root.Parse(args);
        InvocationConfiguration config = new() { Output = stdout, Error = stderr };
        return parse.Invoke(config);
    }

    internal static RootCommand BuildRoot(TextWriter stdout, TextWriter stderr)
    {
        RootCommand root = new("defect: find and locate defects in product images, on the CPU, with no native dependencies.");
        CliContext context = new(stdout, stderr);
        root.Subcommands.Add(ImageCommand.Create(context));
        root.Subcommands.Add(OnnxCommand.Create(context));
        root.Subcommands.Add(TrainCommand.Create(context));
        root.Subcommands.Add(EvaluateCommand.Create(context));
        root.Subcommands.Add(PredictCommand.Create(context));
        root.Subcommands.Add(DetectCommand.Create(context));
        root.Subcommands.Add(GenerateBoardsCommand.Create(context));
        root.Subcommands.Add(ServeCommand.Create(context));
        root.Subcommands.Add(ProjectCommand.Create(context));
        root.Subcommands.Add(DatasetCommand.Create(context));
        root.Subcommands.Add(ModelCommand.Create(context));
        root.Subcommands.Add(TrialCommand.Create(context));
        return root;
    }
}
