using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace RappelRdv.Api.Infrastructure;

/// <summary>
/// Failed authentications per client: past <see cref="FailuresPerWindow"/> within a minute from one
/// client (an IPv4 address, an IPv6 /64: one subscriber's whole network), every further failure
/// from it is answered <c>429</c> with <c>Retry-After</c> instead of <c>401</c>, and a request that
/// presents nothing at all is refused before anything is read.
/// <para>
/// A request that presents a credential is always checked, and a correct one is let in: the client
/// address is shared by whoever sits behind one NAT (or one proxy left unconfigured), and one agenda
/// still using a rotated key must not lock the others out (contract §9.7). That costs the limit
/// nothing it protected: tenant keys are 256-bit random values and the admin key and metrics token are
/// refused at start-up under 32 characters, so no rate of guessing finds one; what the limit does is
/// tell a failing client to stop, at once. A repeated wrong key costs no query (TenantCache remembers
/// it); see docs/SECURITY.md.
/// </para>
/// <para>
/// Counting is the decision: each failure takes one permit of its client's fixed window
/// (System.Threading.RateLimiting, which takes it under a lock), and the failure that finds none left
/// is the one answered 429. A parallel burst cannot slip past the limit between a check and a count.
/// </para>
/// </summary>
internal sealed class AuthFailureLimiter : IDisposable
{
    public const int FailuresPerWindow = 20;

    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private static readonly object RecordedKey = new();

    private readonly PartitionedRateLimiter<IPAddress> failures = PartitionedRateLimiter.Create<IPAddress, IPAddress>(
        client => RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = FailuresPerWindow,
            Window = Window,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    /// <summary>The doors where keys are tried: the API, the managers' and the operator's logins and pages, the scrape endpoint.</summary>
    public static bool Guards(PathString path) =>
        path.StartsWithSegments("/v1") || path.StartsWithSegments("/dashboard") || path.StartsWithSegments("/hangfire") || path.StartsWithSegments("/metrics");

    /// <summary>
    /// Whether this request may be refused before anything is read: its client used up its failures
    /// and it presents nothing that could be right (no key, no session, no login form).
    /// </summary>
    public bool IsBlocked(HttpContext http, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (PresentsCredential(http.Request))
        {
            return false;
        }

        // Asking for zero permits tells whether any are left, without spending one.
        using var lease = failures.AttemptAcquire(Client(http), 0);
        retryAfter = RetryAfter(lease);
        return !lease.IsAcquired;
    }

    /// <summary>
    /// Counts one failure of this request's client (once per request, whoever reports it). Returns
    /// null when the failure may be answered as such, or how long the client must wait when it is
    /// one too many: then the answer is <c>429</c> (see <see cref="Write429"/>).
    /// </summary>
    public TimeSpan? RecordFailure(HttpContext http)
    {
        if (http.Items.TryGetValue(RecordedKey, out var already))
        {
            return (TimeSpan?)already;
        }

        using var lease = failures.AttemptAcquire(Client(http));
        TimeSpan? tooMany = lease.IsAcquired ? null : RetryAfter(lease);
        http.Items[RecordedKey] = tooMany;
        return tooMany;
    }

    /// <summary>The answer to a failure: the door's own (<paramref name="refuse"/>, a 401), or 429 once the client failed too often.</summary>
    public Task RefuseAsync(HttpContext http, Func<Task> refuse) =>
        RecordFailure(http) is { } retryAfter ? Write429(http, retryAfter) : refuse();

    /// <summary>
    /// For a door that answers its own failure as a result (the RDV-Solidarités signature): counts it, and
    /// gives the 429 to answer instead once the client failed too often (null: answer the failure itself).
    /// </summary>
    public static ProblemHttpResult? TooMany(HttpContext http)
    {
        if (http.RequestServices.GetRequiredService<AuthFailureLimiter>().RecordFailure(http) is not { } retryAfter)
        {
            return null;
        }

        SetRetryAfter(http, retryAfter);
        return Problems.Problem(StatusCodes.Status429TooManyRequests, TooManyTitle, TooManyDetail);
    }

    public static Task Write429(HttpContext http, TimeSpan retryAfter)
    {
        SetRetryAfter(http, retryAfter);
        return Problems.Write(http, StatusCodes.Status429TooManyRequests, TooManyTitle, TooManyDetail);
    }

    private const string TooManyTitle = "Too many failed authentications";

    private static readonly string TooManyDetail =
        $"More than {FailuresPerWindow} failed authentications from this address within a minute; try again after Retry-After seconds.";

    public static void SetRetryAfter(HttpContext http, TimeSpan retryAfter) =>
        http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Who is counted: the connection's address, already replaced by the forwarded one when the proxy is
    /// a known one (RequestLimits); an IPv6 address by its /64, since one subscriber gets a whole /64 and
    /// could otherwise take a fresh address, and a fresh count, for every request.
    /// </summary>
    internal static IPAddress Client(HttpContext http)
    {
        var address = http.Connection.RemoteIpAddress ?? IPAddress.None;
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes);
    }

    private static bool PresentsCredential(HttpRequest request) =>
        request.Headers.Authorization.Count > 0 || request.Headers.Cookie.Count > 0 || !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method));

    private static TimeSpan RetryAfter(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : Window;

    public void Dispose() => failures.Dispose();
}

internal static class AuthFailureLimits
{
    /// <summary>Refuses blocked clients that present nothing before anything is read, and counts every 401 of a guarded door.</summary>
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
                await AuthFailureLimiter.Write429(http, retryAfter);
                return;
            }

            await next(http);
            // The doors that know of the limit (the key handlers, the logins) have counted already; this catches any other 401.
            if (http.Response.StatusCode == StatusCodes.Status401Unauthorized)
            {
                limiter.RecordFailure(http);
            }
        });
    }
}
