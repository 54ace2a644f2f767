using System.Security.Cryptography;
using System.Text;
using DefectDetection.Service.Storage;

namespace DefectDetection.Service.Auth;

/// <summary>
/// API keys: <c>dk_&lt;id&gt;_&lt;secret&gt;</c> with a random 256-bit secret, stored as the SHA-256 of the whole key
/// (a fast hash is enough for random keys) and compared in constant time. A key is shown once, when created.
/// </summary>
public static class ApiKeys
{
    private const string Prefix = "dk_";

    /// <summary>Creates a key in a data folder's store and returns it (the only time it is seen).</summary>
    /// <param name="dataDirectory">The service's data folder (created when missing).</param>
    /// <param name="name">A name for people.</param>
    /// <param name="scopes">The scopes.</param>
    /// <param name="cancellationToken">Stops the work.</param>
    public static async Task<string> CreateAsync(string dataDirectory, string name, ApiScopes scopes, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (scopes == ApiScopes.None || (scopes & ~(ApiScopes.Ingest | ApiScopes.Read | ApiScopes.Admin)) != 0)
        {
            throw new ArgumentException("Give at least one scope of ingest, read and admin.", nameof(scopes));
        }

        Directory.CreateDirectory(dataDirectory);
        using SqliteInspectionStore store = new(SqliteInspectionStore.PathIn(dataDirectory));
        await store.InitializeAsync(cancellationToken);
        (string key, ApiKeyRecord record) = New(name, scopes);
        await store.AddKeyAsync(record, cancellationToken);
        return key;
    }

    /// <summary>Parses scope names (<c>ingest,read</c>); throws naming the bad one.</summary>
    /// <param name="text">Comma-separated scope names.</param>
    /// <exception cref="ArgumentException">An unknown or missing scope.</exception>
    public static ApiScopes ParseScopes(string text)
    {
        ApiScopes scopes = ApiScopes.None;
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            scopes |= part.ToLowerInvariant() switch
            {
                "ingest" => ApiScopes.Ingest,
                "read" => ApiScopes.Read,
                "admin" => ApiScopes.Admin,
                _ => throw new ArgumentException($"'{part}' is not a scope: use ingest, read and/or admin."),
            };
        }

        return scopes == ApiScopes.None ? throw new ArgumentException("Give at least one scope: ingest, read, admin.") : scopes;
    }

    internal static (string Key, ApiKeyRecord Record) New(string name, ApiScopes scopes)
    {
        string id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        string secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        string key = $"{Prefix}{id}_{secret}";
        return (key, new ApiKeyRecord { KeyId = id, Name = name, Hash = Hash(key), Scopes = scopes, CreatedAt = DateTimeOffset.UtcNow });
    }

    /// <summary>The key's id, or null when the text is not shaped like a key.</summary>
    internal static string? IdOf(string key)
    {
        if (!key.StartsWith(Prefix, StringComparison.Ordinal) || key.Length > 200)
        {
            return null;
        }

        int sep = key.IndexOf('_', Prefix.Length);
        return sep == Prefix.Length + 12 ? key[Prefix.Length..sep] : null;
    }

    internal static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>Whether a presented key matches a stored hash (constant time).</summary>
    internal static bool Matches(string key, ApiKeyRecord record) => CryptographicOperations.FixedTimeEquals(Hash(key), record.Hash);

    /// <summary>Whether <paramref name="granted"/> allows <paramref name="required"/> (admin allows everything).</summary>
    internal static bool Allows(ApiScopes granted, ApiScopes required) => (granted & ApiScopes.Admin) != 0 || (granted & required) == required;

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
