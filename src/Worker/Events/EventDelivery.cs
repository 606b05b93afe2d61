using System.Net;
using System.Net.Sockets;
using System.Text;
using Dapper;
using Npgsql;
using RappelRdv.Reminders.Events;

namespace RappelRdv.Worker.Events;

/// <summary>
/// Delivers the outbox of events to each tenant's <c>webhook.url</c>, signed the Standard
/// Webhooks way. At least once: an event is marked delivered only after a 2xx, and keeps its
/// id (<c>webhook-id</c>) on every retry so that the agenda can drop duplicates. Retries back off
/// from 30 seconds to 6 hours and go on for 3 days. A tenant whose endpoint fails is set aside
/// until its next attempt, and each round takes at most two events of a tenant, so one dead
/// endpoint never delays another tenant's events.
/// </summary>
internal sealed class EventDelivery(NpgsqlDataSource db, IHttpClientFactory httpClients, TimeProvider clock, ILogger<EventDelivery> logger)
{
    public const string HttpClientName = "webhooks";

    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromDays(3);

    /// <summary>What is read of an agenda's answer at most: only its status matters, and a hostile endpoint could stream without end.</summary>
    public const int MaxAnswerBytes = 64 * 1024;

    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    public async Task<int> DeliverDueAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        List<DueEvent> due;
        await using (var connection = await db.OpenConnectionAsync(cancellationToken))
        {
            // The lease (next_attempt_at pushed a minute ahead) keeps other Workers off these events;
            // if we crash, they come back after it.
            due = (await connection.QueryAsync<DueEvent>(
                """
                with fair as (
                    select id from (
                        select id, row_number() over (partition by tenant_id order by next_attempt_at) as rank
                        from events where status = 'pending' and next_attempt_at <= @now
                    ) ranked
                    where rank <= 2
                    limit 32
                ),
                claimed as (
                    select e.id from events e join fair on fair.id = e.id
                    where e.status = 'pending' and e.next_attempt_at <= @now
                    for update of e skip locked
                )
                update events e set next_attempt_at = @leaseUntil, attempts = attempts + 1
                from claimed, tenants t
                where e.id = claimed.id and t.id = e.tenant_id
                returning e.id, e.tenant_id, e.payload::text as payload, e.created_at, e.attempts,
                          t.settings->>'webhookUrl' as url, t.webhook_secret as secret,
                          case when t.previous_webhook_secret_until > @now then t.previous_webhook_secret end as previous_secret
                """,
                new { now, leaseUntil = now + Lease })).AsList();
        }

        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (e, token) => await DeliverAsync(e, token));
        return due.Count;
    }

    private async Task DeliverAsync(DueEvent e, CancellationToken cancellationToken)
    {
        string? error = null;
        if (string.IsNullOrEmpty(e.Url))
        {
            error = "the tenant has no webhook url any more";
        }
        else
        {
            try
            {
                var sentAt = clock.GetUtcNow();
                using var request = new HttpRequestMessage(HttpMethod.Post, e.Url)
                {
                    Content = new StringContent(e.Payload, Encoding.UTF8, "application/json"),
                };
                var id = e.Id.ToString();
                request.Headers.Add("webhook-id", id);
                request.Headers.Add("webhook-timestamp", WebhookSignature.Timestamp(sentAt));
                request.Headers.Add("webhook-signature", WebhookSignature.Header(e.Secret, e.PreviousSecret, id, sentAt, e.Payload));
                var status = await PostAsync(httpClients.CreateClient(HttpClientName), request, cancellationToken);
                if (status is < 200 or > 299)
                {
                    error = $"the agenda answered {status}";
                }
            }
            catch (HttpRequestException ex)
            {
                error = $"no answer: {ex.HttpRequestError}";
            }
            catch (IOException)
            {
                // The answer's body was cut while we read its first 64 KiB.
                error = "the answer was cut short";
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                error = "no answer within 10 seconds";
            }
        }

        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        if (error is null)
        {
            await connection.ExecuteAsync(
                "update events set status = 'delivered', delivered_at = @now, last_error = null where id = @Id", new { e.Id, now });
            return;
        }

        if (now - e.CreatedAt.AsUtcOffset() > GiveUpAfter)
        {
            await connection.ExecuteAsync("update events set status = 'dead', last_error = @error where id = @Id", new { e.Id, error });
            logger.LogError("Gave up delivering event {EventId} after {Attempts} attempts: {Error}", e.Id, e.Attempts, error);
            return;
        }

        var next = now + Backoff(e.Attempts);
        // This tenant's endpoint is failing: its other due events wait for the same moment.
        await connection.ExecuteAsync(
            """
            update events set next_attempt_at = greatest(next_attempt_at, @next), last_error = case when id = @Id then @error else last_error end
            where tenant_id = @TenantId and status = 'pending' and (id = @Id or next_attempt_at <= @next)
            """,
            new { e.Id, e.TenantId, next, error });
        logger.LogWarning("Event {EventId} not delivered (attempt {Attempts}): {Error}; next try at {Next}", e.Id, e.Attempts, error, next);
    }

    /// <summary>
    /// Sends and reads the answer's headers, then at most <see cref="MaxAnswerBytes"/> of its body
    /// (so that a short answer leaves the connection reusable); the rest is never read, whatever
    /// the endpoint sends.
    /// </summary>
    internal static async Task<int> PostAsync(HttpClient client, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[8192];
        var total = 0;
        int read;
        while (total < MaxAnswerBytes && (read = await body.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, MaxAnswerBytes - total)), cancellationToken)) > 0)
        {
            total += read;
        }

        return (int)response.StatusCode;
    }

    /// <summary>30 s, 1 min, 2 min, … up to 6 h, with up to 20 % jitter.</summary>
    internal static TimeSpan Backoff(int attempts)
    {
        var seconds = Math.Min(30 * Math.Pow(2, Math.Max(0, attempts - 1)), TimeSpan.FromHours(6).TotalSeconds);
        return TimeSpan.FromSeconds(seconds * (1 + (Random.Shared.NextDouble() * 0.2)));
    }

    /// <summary>
    /// No redirects, no proxy, a 10 s timeout, and (unless private networks are allowed) connections
    /// only to ports 443 and 80 of public addresses, checked after DNS resolution so that a name
    /// cannot point us inwards. A proxy (<c>HTTPS_PROXY</c>, <c>ALL_PROXY</c>) is never used: the
    /// address checked would then be the proxy's, and the proxy would resolve the tenant's name.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(bool allowPrivateNetworks) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        Proxy = null,
        MaxResponseHeadersLength = 16,   // KiB
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectCallback = async (context, cancellationToken) =>
        {
            if (!allowPrivateNetworks && !WebhookUrls.AllowedPorts.Contains(context.DnsEndPoint.Port))
            {
                throw new HttpRequestException(HttpRequestError.ConnectionError, $"port {context.DnsEndPoint.Port} is not one a webhook may use (443, 80)");
            }

            var addresses = await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellationToken);
            var allowed = addresses.Where(a => allowPrivateNetworks || WebhookUrls.IsPublic(a)).ToArray();
            if (allowed.Length == 0)
            {
                throw new HttpRequestException(HttpRequestError.ConnectionError, $"{context.DnsEndPoint.Host} does not resolve to a public address");
            }

            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    private sealed record DueEvent(Guid Id, long TenantId, string Payload, DateTime CreatedAt, int Attempts, string? Url, string Secret, string? PreviousSecret);
}

internal static class DateTimeExtensions
{
    public static DateTimeOffset AsUtcOffset(this DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc), TimeSpan.Zero);
}
