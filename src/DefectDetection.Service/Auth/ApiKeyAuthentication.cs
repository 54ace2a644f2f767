using System.Security.Claims;
using System.Text.Encodings.Web;
using DefectDetection.Service.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DefectDetection.Service.Auth;

/// <summary>
/// Authenticates <c>Authorization: Bearer &lt;key&gt;</c> or <c>X-Api-Key: &lt;key&gt;</c> against the key store.
/// The key itself is never logged: failures log the key's id at most.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, IApiKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string ScopeClaim = "scope";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? key = null;
        if (Request.Headers.Authorization.ToString() is { Length: > 7 } auth && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            key = auth[7..].Trim();
        }
        else if (Request.Headers["X-Api-Key"].ToString() is { Length: > 0 } header)
        {
            key = header.Trim();
        }

        if (key is null)
        {
            return AuthenticateResult.NoResult();
        }

        string? id = ApiKeys.IdOf(key);
        ApiKeyRecord? record = id is null ? null : await keys.FindKeyAsync(id, Context.RequestAborted);
        if (record is null || !ApiKeys.Matches(key, record))
        {
            Logger.LogInformation("Refused an API key (id {KeyId})", id ?? "malformed");
            return AuthenticateResult.Fail("invalid API key");
        }

        Claim[] claims = [new(ClaimTypes.Name, record.Name), new("key_id", record.KeyId), new(ScopeClaim, ((int)record.Scopes).ToString(System.Globalization.CultureInfo.InvariantCulture))];
        ClaimsPrincipal principal = new(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }
}

/// <summary>The authorization policies of the scopes.</summary>
internal static class ScopePolicies
{
    public const string Ingest = "scope:ingest";
    public const string Read = "scope:read";
    public const string Admin = "scope:admin";

    public static void Add(AuthorizationOptions options)
    {
        options.AddPolicy(Ingest, p => Require(p, ApiScopes.Ingest));
        options.AddPolicy(Read, p => Require(p, ApiScopes.Read));
        options.AddPolicy(Admin, p => Require(p, ApiScopes.Admin));
    }

    private static void Require(AuthorizationPolicyBuilder policy, ApiScopes scope)
    {
        policy.AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName);
        policy.RequireAuthenticatedUser();
        policy.RequireAssertion(ctx =>
            ctx.User.FindFirst(ApiKeyAuthenticationHandler.ScopeClaim)?.Value is { } v
            && int.TryParse(v, System.Globalization.CultureInfo.InvariantCulture, out int granted)
            && ApiKeys.Allows((ApiScopes)granted, scope));
    }
}
