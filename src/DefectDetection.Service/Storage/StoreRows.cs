using System.Data.Common;

namespace DefectDetection.Service.Storage;

/// <summary>The row mapping both SQL stores share (SQLite embedded, PostgreSQL scaled out): status texts, inspection and delivery rows.</summary>
internal static class StoreRows
{
    internal static string StatusText(InspectionStatus status) => status switch
    {
        InspectionStatus.Queued => "queued",
        InspectionStatus.Done => "done",
        InspectionStatus.Invalid => "invalid",
        _ => "failed",
    };

    internal static InspectionStatus ParseStatus(string text) => text switch
    {
        "queued" => InspectionStatus.Queued,
        "done" => InspectionStatus.Done,
        "invalid" => InspectionStatus.Invalid,
        _ => InspectionStatus.Failed,
    };

    internal static async Task<IReadOnlyList<InspectionRecord>> ReadRecordsAsync(DbCommand cmd, CancellationToken cancellationToken)
    {
        List<InspectionRecord> rows = [];
        await using DbDataReader r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
        {
            InspectionStatus status = ParseStatus(r.GetString(2));
            rows.Add(new InspectionRecord
            {
                Sequence = r.GetInt64(0),
                Id = r.GetString(1),
                Status = status,
                Metadata = new ImageMetadata
                {
                    Camera = Text(r, 3),
                    Line = Text(r, 4),
                    Facility = Text(r, 5),
                    PartId = Text(r, 6),
                    CapturedAt = r.IsDBNull(7) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(7)),
                    IdempotencyKey = Text(r, 8),
                },
                ReceivedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(9)),
                ImagePath = r.GetString(10),
                Attempts = r.GetInt32(11),
                Outcome = status == InspectionStatus.Queued ? null : new InspectionOutcome
                {
                    Status = status,
                    CompletedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(12)),
                    ModelVersion = Text(r, 13),
                    IsDefect = r.IsDBNull(14) ? null : r.GetInt64(14) != 0,
                    Label = Text(r, 15),
                    Score = r.IsDBNull(16) ? null : r.GetDouble(16),
                    PredictionJson = Text(r, 17),
                    Error = Text(r, 18),
                },
            });
        }

        return rows;
    }

    internal static string? Text(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    internal static async Task<IReadOnlyList<WebhookDelivery>> ReadDeliveriesAsync(DbCommand cmd, CancellationToken cancellationToken)
    {
        List<WebhookDelivery> rows = [];
        await using DbDataReader r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
        {
            rows.Add(new WebhookDelivery
            {
                Id = r.GetInt64(0),
                Url = r.GetString(1),
                Event = r.GetString(2),
                Payload = r.GetString(3),
                Attempts = r.GetInt32(4),
                NextAttemptAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)),
                CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(6)),
                LastError = Text(r, 7),
                Claim = Text(r, 8),
            });
        }

        return rows;
    }
}
