using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using RappelRdv.Api.Tenants;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Api.Infrastructure;

internal static class TenantClaims
{
    public const string TenantId = "tenant_id";
    public const string Slug = "tenant_slug";
    public const string Role = "role";

}

internal static class ClaimsPrincipalExtensions
{
    /// <summary>The tenant whose key authenticated this request.</summary>
    public static Tenant Tenant(this HttpContext context) =>
        context.Items[typeof(Tenant)] as Tenant ?? throw new InvalidOperationException("No tenant key on this request");

    public static long TenantId(this ClaimsPrincipal user) =>
        long.Parse(user.FindFirstValue(TenantClaims.TenantId)!, System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// <c>Authorization: Bearer rra_…</c> or <c>rrm_…</c>: the tenant's agenda or manager key. Not the
/// default scheme: it runs only where a policy names it, so a key sent to <c>/health</c> or
/// <c>/twilio</c> costs no look-up.
/// </summary>
internal sealed class TenantKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, TenantCache tenants)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string Name = "TenantKey";

    private AuthFailureLimiter Limiter => Context.RequestServices.GetRequiredService<AuthFailureLimiter>();

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        // Bearer only: the dashboard's browser sessions are cookie tickets that never hold a key (Dashboard/Sessions.cs).
        var key = BearerToken(Request);
        if (key is null)
        {
            return AuthenticateResult.NoResult();
        }

        if (!TenantSecrets.TryReadSlug(key, out var role, out var slug))
        {
            return AuthenticateResult.Fail("Unknown key");
        }

        var known = await tenants.FindAsync(
            slug, key, t => TenantSecrets.Matches(key, role == KeyRole.Api ? t.ApiKeyHash : t.ManagerKeyHash), Context.RequestAborted);
        if (known is null)
        {
            return AuthenticateResult.Fail("Unknown key");
        }

        // Found once per request: the endpoints take the tenant from here rather than asking again.
        var tenant = known.Tenant;
        Context.Items[typeof(Tenant)] = tenant;

        var identity = new ClaimsIdentity(
            [
                new Claim(TenantClaims.TenantId, tenant.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Claim(TenantClaims.Slug, slug),
                new Claim(TenantClaims.Role, role == KeyRole.Api ? "api" : "manager"),
            ],
            Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        Limiter.RefuseAsync(Context, () => Problems.Write(Context, StatusCodes.Status401Unauthorized, "A valid key is required",
            "Send the tenant's key as 'Authorization: Bearer <apiKey>'."));

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.Write(Context, StatusCodes.Status403Forbidden, "This key cannot do that",
            "The manager key only reads statistics and the dashboard; writing needs the apiKey.");

    internal static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.Length > 7 ? header[7..].Trim() : null;
    }
}

/// <summary>The operator's key, for <c>/v1/admin</c> (bearer) and <c>/hangfire</c> (bearer or login cookie).</summary>
internal sealed class AdminKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, IOptions<AdminOptions> admin)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string Name = "AdminKey";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = TenantKeyAuthentication.BearerToken(Request);
        if (key is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!TenantSecrets.AdminKeyMatches(key, admin.Value.ApiKey))
        {
            return Task.FromResult(AuthenticateResult.Fail("Wrong admin key"));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "operator")], Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Name)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        Refuse(Context);

    /// <summary>A missing or wrong admin key (here, or on Hangfire's dashboard): 401, or 429 once the client failed too often.</summary>
    internal static Task Refuse(HttpContext http) =>
        http.RequestServices.GetRequiredService<AuthFailureLimiter>().RefuseAsync(http, () =>
            Problems.Write(http, StatusCodes.Status401Unauthorized, "The operator's key is required", "Send Admin__ApiKey as 'Authorization: Bearer <key>'."));
}
