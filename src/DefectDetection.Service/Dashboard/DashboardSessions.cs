using System.Collections.Concurrent;
using System.Security.Cryptography;
using DefectDetection.Service.Auth;

namespace DefectDetection.Service.Dashboard;

/// <summary>A signed-in browser: the key's name and scopes, and the token every state-changing request must echo.</summary>
internal sealed record DashboardSession(string Name, ApiScopes Scopes, string CsrfToken, DateTimeOffset ExpiresAt)
{
    public bool Allows(ApiScopes scope) => ApiKeys.Allows(Scopes, scope);
}

/// <summary>
/// Sessions of the dashboard, in memory: a random id in an HttpOnly, SameSite=Strict cookie maps to the scopes of
/// the API key it was exchanged for. A restart signs everyone out; keys are never kept.
/// </summary>
internal sealed class DashboardSessions(TimeProvider clock)
{
    public const string CookieName = "defect_session";
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    private readonly ConcurrentDictionary<string, DashboardSession> _sessions = new(StringComparer.Ordinal);

    public (string Id, DashboardSession Session) Create(string name, ApiScopes scopes)
    {
        foreach (KeyValuePair<string, DashboardSession> old in _sessions)
        {
            if (old.Value.ExpiresAt < clock.GetUtcNow())
            {
                _sessions.TryRemove(old.Key, out _);
            }
        }

        string id = Token();
        DashboardSession session = new(name, scopes, Token(), clock.GetUtcNow() + Lifetime);
        _sessions[id] = session;
        return (id, session);
    }

    public DashboardSession? Find(string? id) =>
        id is not null && _sessions.TryGetValue(id, out DashboardSession? s) && s.ExpiresAt > clock.GetUtcNow() ? s : null;

    public void Remove(string? id)
    {
        if (id is not null)
        {
            _sessions.TryRemove(id, out _);
        }
    }

    private static string Token() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
