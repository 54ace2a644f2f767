using DefectDetection.Service.Storage;

namespace DefectDetection.Service.Queue;

/// <summary>How an upload ended.</summary>
internal enum IntakeStatus
{
    /// <summary>Stored and queued.</summary>
    Accepted,

    /// <summary>Its idempotency key was seen before: the earlier id, nothing new stored.</summary>
    Duplicate,

    /// <summary>The queue is full: nothing stored.</summary>
    QueueFull,
}

/// <summary>
/// Accepts an upload durably: room in the queue is reserved first, then the image is written to disk (flushed) and
/// recorded as queued in the store, and only then queued; so an image is acknowledged (202) only once a restart
/// would find it.
/// </summary>
internal sealed class ImageIntake(InspectionServiceOptions options, IResultStore store, IWorkQueue queue, TimeProvider time)
{
    public async Task<(IntakeStatus Status, string? Id)> AcceptAsync(Stream image, string? fileName, ImageMetadata metadata, CancellationToken cancellationToken)
    {
        if (metadata.IdempotencyKey is { } key && await store.FindByIdempotencyKeyAsync(key, cancellationToken) is { } known)
        {
            return (IntakeStatus.Duplicate, known);
        }

        if (!queue.TryReserve())
        {
            return (IntakeStatus.QueueFull, null);
        }

        DateTimeOffset now = time.GetUtcNow();
        string id = Guid.CreateVersion7(now).ToString("N");
        string folder = Path.Combine(options.DataDirectory, "images", now.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        string path = Path.Combine(folder, id + Extension(fileName));
        bool queued = false;
        bool stored = false;
        try
        {
            Directory.CreateDirectory(folder);
            await using (FileStream file = new(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                await image.CopyToAsync(file, cancellationToken);
                file.Flush(flushToDisk: true);
            }

            (string storedId, bool created) = await store.AddQueuedAsync(new NewInspection(id, metadata, now, path), cancellationToken);
            if (!created)
            {
                return (IntakeStatus.Duplicate, storedId);
            }

            stored = true; // from here the row owns the file: a queue that fails to take it leaves it to a sweeper

            await queue.EnqueueAsync(new WorkItem(id, path, now), CancellationToken.None);
            queued = true;
            return (IntakeStatus.Accepted, id);
        }
        finally
        {
            if (!queued)
            {
                queue.CancelReservation();
                if (!stored)
                {
                    File.Delete(path);
                }
            }
        }
    }

    // The upload's extension when it is a short plain one (kept for people browsing the folder), else .img.
    private static string Extension(string? fileName)
    {
        string ext = Path.GetExtension(fileName ?? "").ToLowerInvariant();
        return ext.Length is > 1 and <= 6 && ext.Skip(1).All(char.IsAsciiLetterOrDigit) ? ext : ".img";
    }
}
