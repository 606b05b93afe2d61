using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Api.Metrics;

/// <summary><c>Metrics__Token</c>: Prometheus's own credential, so that a leaked scrape configuration is not the operator's key.</summary>
internal sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>Unset: <c>/metrics</c> refuses every request.</summary>
    public string? Token { get; set; }
}

/// <summary><c>Authorization: Bearer &lt;Metrics__Token&gt;</c> on <c>/metrics</c>; nothing else (not even the admin key) is accepted there.</summary>
internal sealed class MetricsTokenAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, IOptions<MetricsOptions> metrics)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string Name = "MetricsToken";

    public const string Policy = "metrics";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = TenantKeyAuthentication.BearerToken(Request);
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (metrics.Value.Token is not { Length: > 0 } token || !TenantSecrets.AdminKeyMatches(presented, token))
        {
            return Task.FromResult(AuthenticateResult.Fail("Wrong metrics token"));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "prometheus")], Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Name)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        Context.RequestServices.GetRequiredService<AuthFailureLimiter>().RefuseAsync(Context, () =>
            Problems.Write(Context, StatusCodes.Status401Unauthorized, "The metrics token is required",
                metrics.Value.Token is { Length: > 0 }
                    ? "Send Metrics__Token as 'Authorization: Bearer <token>'."
                    : "Metrics__Token is not set on this Api: /metrics is closed."));
}
