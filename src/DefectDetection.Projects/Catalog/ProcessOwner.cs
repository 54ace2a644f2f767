using System.Diagnostics;
using System.Globalization;

namespace DefectDetection.Projects.Catalog;

/// <summary>
/// The process that owns a piece of work in progress (an import, a training run, a trial): its id, its start time (so
/// that a reused id is not mistaken for it) and the machine it runs on.
/// </summary>
internal readonly record struct ProcessOwner(int Pid, string Started, string Host)
{
    /// <summary>This process.</summary>
    public static ProcessOwner Current { get; } = Create();

    /// <summary>
    /// True when the owner has ended: it ran on this machine and no process with its id and start time exists. Work owned
    /// by another machine (a project on a shared folder) is never taken for abandoned.
    /// </summary>
    public bool IsGone()
    {
        if (!string.Equals(Host, Environment.MachineName, StringComparison.Ordinal))
        {
            return false;
        }

        if (Pid == Current.Pid && Started == Current.Started)
        {
            return false;
        }

        try
        {
            using Process process = Process.GetProcessById(Pid);
            if (process.HasExited)
            {
                return true;
            }

            return StartOf(process) != Started;
        }
        catch (ArgumentException)
        {
            return true; // no such process
        }
        catch (InvalidOperationException)
        {
            return true; // it exited while we looked
        }
    }

    private static ProcessOwner Create()
    {
        using Process self = Process.GetCurrentProcess();
        return new ProcessOwner(self.Id, StartOf(self), Environment.MachineName);
    }

    // The start time to the second, in UTC: enough to tell a reused process id apart.
    private static string StartOf(Process process) =>
        process.StartTime.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);
}
