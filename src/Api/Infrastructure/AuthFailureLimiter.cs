using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;

namespace RappelRdv.Api.Infrastructure;

/// <summary>
/// Failed authentications per client address: after <see cref="FailuresPerWindow"/> within a
/// minute, that address gets <c>429</c> with <c>Retry-After</c> on every guarded door until the
/// window ends (a correct key included: a guesser who finds it does not learn so). Only failures
/// are counted, so an agenda syncing thousands of appointments is never slowed. Built on
/// System.Threading.RateLimiting's fixed windows, one partition per address.
/// <para>
/// The hook for every login: a 401 on a guarded path is counted by <see cref="UseAuthFailureLimits"/>;
/// a login that answers something else on failure calls <see cref="RecordFailure"/> itself.
/// </para>
/// </summary>
internal sealed class AuthFailureLimiter : IDisposable
{
    public const int FailuresPerWindow = 20;

    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly PartitionedRateLimiter<IPAddress> failures = PartitionedRateLimiter.Create<IPAddress, IPAddress>(
        address => RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = FailuresPerWindow,
            Window = Window,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    /// <summary>The doors where keys are tried: the API, the managers' and the operator's logins and pages, the scrape endpoint.</summary>
    public static bool Guards(PathString path) =>
        path.StartsWithSegments("/v1") || path.StartsWithSegments("/dashboard") || path.StartsWithSegments("/hangfire") || path.StartsWithSegments("/metrics");

    /// <summary>Whether this address used up its failures; if so, when it may try again.</summary>
    public bool IsBlocked(HttpContext http, out TimeSpan retryAfter)
    {
        // Asking for zero permits tells whether any are left, without spending one.
        using var lease = failures.AttemptAcquire(ClientAddress(http), 0);
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : Window;
        return !lease.IsAcquired;
    }

    /// <summary>Counts one failure of this request's address (once per request, whoever reports it).</summary>
    public void RecordFailure(HttpContext http)
    {
        if (http.Items.TryAdd(RecordedKey, true))
        {
            using var lease = failures.AttemptAcquire(ClientAddress(http));
        }
    }

    private static readonly object RecordedKey = new();

    /// <summary>The connection's address, already replaced by the forwarded one when the proxy is a known one (ApiSetup).</summary>
    private static IPAddress ClientAddress(HttpContext http)
    {
        var address = http.Connection.RemoteIpAddress ?? IPAddress.None;
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }

    public void Dispose() => failures.Dispose();
}

internal static class AuthFailureLimits
{
    /// <summary>Refuses blocked addresses before anything is read, and counts every 401 of a guarded door.</summary>
    public static void UseAuthFailureLimits(this WebApplication app)
    {
        var limiter = app.Services.GetRequiredService<AuthFailureLimiter>();
        app.Use(async (http, next) =>
        {
            if (!AuthFailureLimiter.Guards(http.Request.Path))
            {
                await next(http);
                return;
            }

            if (limiter.IsBlocked(http, out var retryAfter))
            {
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await Problems.Write(http, StatusCodes.Status429TooManyRequests, "Too many failed authentications",
                    $"More than {AuthFailureLimiter.FailuresPerWindow} failed authentications from this address within a minute; try again after Retry-After seconds.");
                return;
            }

            await next(http);
            if (http.Response.StatusCode == StatusCodes.Status401Unauthorized)
            {
                limiter.RecordFailure(http);
            }
        });
    }
}
