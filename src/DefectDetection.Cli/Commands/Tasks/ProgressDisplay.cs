using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace DefectDetection.Cli.Commands.Tasks;

/// <summary>One stage of a training run, shown as a progress bar (terminal) or one line when it completes (otherwise).</summary>
internal interface IStageBar
{
    /// <summary>The value at which the stage is complete.</summary>
    double MaxValue { get; set; }

    /// <summary>Progress so far, 0 to <see cref="MaxValue"/>.</summary>
    double Value { get; set; }
}

/// <summary>The stage bars of one training run.</summary>
internal interface IStageBars
{
    /// <summary>Adds a stage; one that is not <paramref name="started"/> is shown only once it reports progress.</summary>
    IStageBar Add(string title, double maxValue, bool started = true);

    /// <summary>Marks every stage that ran as complete.</summary>
    void CompleteAll();
}

/// <summary>
/// The training progress of the train command: live Spectre.Console bars on a terminal; when the output is redirected or
/// captured, one plain line per stage as it completes (with its wall time), so logs show where the time went.
/// </summary>
internal static class ProgressDisplay
{
    /// <summary>Runs <paramref name="work"/> with a progress display on the command's output and returns its result.</summary>
    public static T Run<T>(CliContext context, Func<IStageBars, T> work)
    {
        bool terminal = ReferenceEquals(context.Out, Console.Out) && !Console.IsOutputRedirected;
        if (!terminal)
        {
            var lines = new LineBars(context.Out);
            T done = work(lines);
            lines.CompleteAll();
            return done;
        }

        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(context.Out),
            Ansi = AnsiSupport.Detect,
            Interactive = InteractionSupport.Detect,
        });
        T result = default!;
        console.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var bars = new SpectreBars(ctx);
                result = work(bars);
                bars.CompleteAll();
            });
        return result;
    }

    private sealed class SpectreBars(ProgressContext context) : IStageBars
    {
        private readonly List<Bar> _bars = [];

        public IStageBar Add(string title, double maxValue, bool started = true)
        {
            var bar = new Bar(context.AddTask(title, autoStart: started, maxValue: maxValue));
            _bars.Add(bar);
            return bar;
        }

        public void CompleteAll() => _bars.ForEach(b => b.Value = b.MaxValue);

        private sealed class Bar(ProgressTask task) : IStageBar
        {
            public double MaxValue { get => task.MaxValue; set => task.MaxValue = value; }

            public double Value
            {
                get => task.Value;
                set
                {
                    task.StartTask();
                    task.Value = value;
                }
            }
        }
    }

    private sealed class LineBars(TextWriter output) : IStageBars
    {
        // Stages run one after another: each one's time runs from the previous one's completion (or the start).
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly List<Bar> _bars = [];
        private TimeSpan _lastCompletion;

        public IStageBar Add(string title, double maxValue, bool started = true)
        {
            var bar = new Bar(this, title, maxValue, started);
            _bars.Add(bar);
            return bar;
        }

        public void CompleteAll()
        {
            foreach (Bar b in _bars)
            {
                if (b.Started)
                {
                    b.Value = b.MaxValue;
                }
            }
        }

        private void Completed(Bar bar)
        {
            TimeSpan now = _clock.Elapsed;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{bar.Title}: done in {(now - _lastCompletion).TotalSeconds:F1} s"));
            _lastCompletion = now;
        }

        private sealed class Bar(LineBars owner, string title, double maxValue, bool started) : IStageBar
        {
            private double _value;
            private bool _done;

            public string Title { get; } = title;

            public bool Started { get; private set; } = started;

            public double MaxValue { get; set; } = maxValue;

            public double Value
            {
                get => _value;
                set
                {
                    Started = true;
                    _value = value;
                    if (!_done && _value >= MaxValue)
                    {
                        _done = true;
                        owner.Completed(this);
                    }
                }
            }
        }
    }
}

/// <summary>An <see cref="IProgress{T}"/> that acts on the reporting thread (<see cref="Progress{T}"/> would post to the thread pool).</summary>
internal sealed class SyncProgress<T>(Action<T> action) : IProgress<T>
{
    public void Report(T value) => action(value);
}
