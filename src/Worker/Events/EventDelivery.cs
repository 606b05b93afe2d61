using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Dapper;
using Npgsql;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Events;
using RappelRdv.Reminders.Telemetry;
using RappelRdv.Worker.Hosting;

namespace RappelRdv.Worker.Events;

/// <summary>
/// Delivers the outbox of events to each tenant's <c>webhook.url</c>, signed the Standard
/// Webhooks way. At least once: an event is marked delivered only after a 2xx, and keeps its
/// id (<c>webhook-id</c>) on every retry so that the agenda can drop duplicates. Retries back off
/// from 30 seconds to 6 hours and go on for 3 days.
/// <para>
/// Its own loop (<see cref="RunAsync"/>, a hosted service of the Worker), never the dispatch
/// slices': an agenda's answer can hold one of the <c>Events__Senders</c> and nothing else. Each
/// attempt has one deadline (<c>Events__AttemptTimeout</c>) for the connection, the headers and the
/// body together; a tenant has at most <c>Events__PerTenant</c> attempts in flight in a Worker, and a
/// tenant whose endpoint fails is set aside until its next attempt, so one slow or dead endpoint
/// takes its share of the senders and never another tenant's.
/// </para>
/// <para>
/// A claim carries the Worker's number (<see cref="WorkerPresence"/>) while its attempt is in flight; every
/// outcome clears it. Every <see cref="WorkerPresence.GoneClaimsInterval"/> the loop gives back at once the
/// events claimed by a Worker that is gone (its number's lock held by nobody), rather than after their
/// lease: an agenda may then get one twice, with the same <c>webhook-id</c>, as at least once allows.
/// </para>
/// </summary>
internal sealed class EventDelivery(
    NpgsqlDataSource db, IHttpClientFactory httpClients, TimeProvider clock, ILogger<EventDelivery> logger, EventOptions? options = null,
    WorkerPresence? presence = null)
    : BackgroundService
{
    public const string HttpClientName = "webhooks";

    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromDays(3);

    /// <summary>What is read of an agenda's answer at most: only its status matters, and a hostile endpoint could stream without end.</summary>
    public const int MaxAnswerBytes = 64 * 1024;

    // Longer than any attempt (AttemptTimeout is at most 30 s): an event is never delivered by two
    // Workers at once, and a crashed Worker's events come back after it.
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    private readonly EventOptions options = options ?? new EventOptions();

    // Attempts in flight in this process, per tenant: what the claim leaves to each tenant.
    private readonly Dictionary<long, int> inFlight = [];

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => RunAsync(stoppingToken);

    /// <summary>
    /// Claims due events as senders free up and delivers each in the background, until
    /// <paramref name="stopping"/>: then it claims nothing more, cuts the attempts in flight and gives
    /// their events back at once (an agenda may get one of them twice, with the same
    /// <c>webhook-id</c>: at least once allows it, and a stop never waits on an agenda).
    /// </summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        using var senders = new SemaphoreSlim(options.Senders, options.Senders);
        var running = new List<Task>();
        var nextGiveBack = clock.GetUtcNow();
        while (!stopping.IsCancellationRequested)
        {
            var claimed = 0;
            var free = 0;
            try
            {
                if (clock.GetUtcNow() >= nextGiveBack)
                {
                    nextGiveBack = clock.GetUtcNow() + WorkerPresence.GoneClaimsInterval;
                    await GiveBackGoneAsync(stopping);
                }

                await senders.WaitAsync(stopping);
                free = 1;
                while (senders.Wait(0))
                {
                    free++;
                }

                var due = await ClaimAsync(free, stopping);
                claimed = due.Count;
                running.RemoveAll(t => t.IsCompleted);
                foreach (var e in due)
                {
                    free--;
                    running.Add(DeliverInBackgroundAsync(e, senders, stopping));
                }
            }
            catch (Exception e)
            {
                if (ClaimLoops.EndsLoop(e, stopping, db, logger, "Event delivery"))
                {
                    break;
                }
            }
            finally
            {
                if (free > 0)
                {
                    senders.Release(free);
                }
            }

            if (claimed == 0 && !await IdleAsync(stopping))
            {
                break;
            }
        }

        await Task.WhenAll(running);
    }

    // Released when an attempt ends: what was held back for its tenant may be claimed now.
    private readonly SemaphoreSlim attemptEnded = new(0);

    /// <summary>Nothing to claim: waits <c>IdleDelay</c>, or less if an attempt ends. False when stopping.</summary>
    private async Task<bool> IdleAsync(CancellationToken stopping)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var ended = attemptEnded.WaitAsync(idle.Token);
        var slept = Task.Delay(options.IdleDelay, clock, idle.Token);
        await Task.WhenAny(ended, slept);
        await idle.CancelAsync();
        await Task.WhenAll(ended, slept).ContinueWith(_ => { }, TaskScheduler.Default);
        return !stopping.IsCancellationRequested;
    }

    private async Task DeliverInBackgroundAsync(DueEvent e, SemaphoreSlim senders, CancellationToken stopping)
    {
        try
        {
            await Task.Yield();
            await DeliverAsync(e, stopping);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stopping.IsCancellationRequested)
        {
            // Its lease brings it back: a failure to write the outcome loses nothing.
            logger.LogWarning(ex, "Delivery of event {EventId} could not be recorded; it is tried again after its lease", e.Id);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            Finished(e);
            senders.Release();
            if (attemptEnded.CurrentCount == 0)
            {
                attemptEnded.Release();
            }
        }
    }

    /// <summary>
    /// One round, for callers without the loop (the end-to-end tests): claims what is due, within the
    /// same per-tenant limits, delivers it and waits. Returns how many were claimed.
    /// </summary>
    public async Task<int> DeliverDueAsync(CancellationToken cancellationToken)
    {
        var due = await ClaimAsync(options.Senders, cancellationToken);
        await Task.WhenAll(due.Select(async e =>
        {
            try
            {
                await DeliverAsync(e, cancellationToken);
            }
            finally
            {
                Finished(e);
            }
        }));
        return due.Count;
    }

    private void Finished(DueEvent e)
    {
        lock (inFlight)
        {
            if (--inFlight[e.TenantId] == 0)
            {
                inFlight.Remove(e.TenantId);
            }
        }
    }

    /// <summary>
    /// Events claimed by a Worker that is gone (killed, its node lost: its number's lock is held by
    /// nobody) are due again at once, the attempt not counted, as a stopping Worker's are. Returns how many.
    /// </summary>
    public async Task<int> GiveBackGoneAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var given = await connection.ExecuteAsync(new CommandDefinition(
            $"""
            update events e set next_attempt_at = @now, attempts = greatest(e.attempts - 1, 0), claimed_by = null
            where e.claimed_by is not null and e.status = 'pending' and {Claimers.Gone("e.claimed_by")}
            """,
            new { now = clock.GetUtcNow() },
            cancellationToken: cancellationToken));
        if (given > 0)
        {
            logger.LogWarning("{Count} events claimed by a Worker that is gone are due again at once", given);
        }

        return given;
    }

    /// <summary>
    /// Takes at most <paramref name="count"/> due events, at most <c>PerTenant</c> of a tenant less
    /// those it has in flight here, the first of each tenant before the second of any (a round-robin
    /// in one statement). The lease (next_attempt_at pushed a minute ahead) keeps other Workers off them.
    /// </summary>
    private async Task<List<DueEvent>> ClaimAsync(int count, CancellationToken cancellationToken)
    {
        long[] busyTenants;
        int[] busyCounts;
        lock (inFlight)
        {
            busyTenants = [.. inFlight.Keys];
            busyCounts = [.. busyTenants.Select(t => inFlight[t])];
        }

        var now = clock.GetUtcNow();
        List<DueEvent> due;
        await using (var connection = await db.OpenConnectionAsync(cancellationToken))
        {
            due = (await connection.QueryAsync<DueEvent>(new CommandDefinition(
                """
                with busy as (select * from unnest(@busyTenants, @busyCounts) as b(tenant_id, n)),
                fair as (
                    select id from (
                        select e.id, e.tenant_id, e.next_attempt_at,
                               row_number() over (partition by e.tenant_id order by e.next_attempt_at) as rank
                        from events e
                        where e.status = 'pending' and e.next_attempt_at <= @now
                    ) ranked
                    left join busy on busy.tenant_id = ranked.tenant_id
                    where rank <= @perTenant - coalesce(busy.n, 0)
                    order by rank, next_attempt_at
                    limit @count
                ),
                claimed as (
                    select e.id from events e join fair on fair.id = e.id
                    where e.status = 'pending' and e.next_attempt_at <= @now
                    for update of e skip locked
                )
                update events e set next_attempt_at = @leaseUntil, attempts = attempts + 1, claimed_by = @claimedBy
                from claimed, tenants t
                where e.id = claimed.id and t.id = e.tenant_id
                returning e.id, e.tenant_id, e.payload::text as payload, e.created_at, e.attempts,
                          t.settings->>'webhookUrl' as url, t.webhook_secret as secret,
                          case when t.previous_webhook_secret_until > @now then t.previous_webhook_secret end as previous_secret,
                          e.traceparent
                """,
                new { now, leaseUntil = now + Lease, busyTenants, busyCounts, perTenant = options.PerTenant, count, claimedBy = presence?.Number },
                cancellationToken: cancellationToken))).AsList();
        }

        lock (inFlight)
        {
            foreach (var e in due)
            {
                inFlight[e.TenantId] = inFlight.GetValueOrDefault(e.TenantId) + 1;
            }
        }

        return due;
    }

    private async Task DeliverAsync(DueEvent e, CancellationToken stopping)
    {
        // One span per attempt, linked to the span that caused the event (a request, a send); the POST nests in it.
        using var span = RappelTelemetry.StartProcessing("deliver event", e.Traceparent,
            ("rappel.event.id", e.Id.ToString()), ("rappel.tenant.id", e.TenantId), ("rappel.attempt", e.Attempts));
        string? error = null;
        if (string.IsNullOrEmpty(e.Url))
        {
            error = "the tenant has no webhook url any more";
        }
        else
        {
            // One deadline for the whole exchange: connecting, the headers and the body. HttpClient's own
            // Timeout stops at the headers when the body is streamed, which let a dripping endpoint hold
            // a sender for ever.
            using var deadline = new CancellationTokenSource(options.AttemptTimeout, clock);
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stopping, deadline.Token);
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
                var status = await PostAsync(httpClients.CreateClient(HttpClientName), request, attempt.Token);
                if (status is < 200 or > 299)
                {
                    error = $"the agenda answered {status}";
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                // Stopping: the event is given back at once, for this Worker's successor or another one.
                await using var giveBack = await db.OpenConnectionAsync(CancellationToken.None);
                await giveBack.ExecuteAsync(
                    "update events set next_attempt_at = @now, attempts = greatest(attempts - 1, 0), claimed_by = null where id = @Id and status = 'pending'",
                    new { e.Id, now = clock.GetUtcNow() });
                throw;
            }
            catch (OperationCanceledException)
            {
                // The deadline, or HttpClient's own timeout (the same length, on the wall clock).
                error = $"no complete answer within {options.AttemptTimeout.TotalSeconds:0} seconds";
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
        }

        if (error is not null)
        {
            span?.SetStatus(ActivityStatusCode.Error, error);
        }

        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(CancellationToken.None);
        await RecordAsync(connection, e, error, now);
    }

    private async Task RecordAsync(NpgsqlConnection connection, DueEvent e, string? error, DateTimeOffset now)
    {
        if (error is null)
        {
            await connection.ExecuteAsync(
                "update events set status = 'delivered', delivered_at = @now, last_error = null, claimed_by = null where id = @Id", new { e.Id, now });
            return;
        }

        if (now - e.CreatedAt.AsUtcOffset() > GiveUpAfter)
        {
            await connection.ExecuteAsync("update events set status = 'dead', last_error = @error, claimed_by = null where id = @Id", new { e.Id, error });
            logger.LogError("Gave up delivering event {EventId} after {Attempts} attempts: {Error}", e.Id, e.Attempts, error);
            return;
        }

        var next = now + Backoff(e.Attempts);
        // This tenant's endpoint is failing: its other due events wait for the same moment.
        await connection.ExecuteAsync(
            """
            update events set next_attempt_at = greatest(next_attempt_at, @next), last_error = case when id = @Id then @error else last_error end,
                claimed_by = case when id = @Id then null else claimed_by end
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
        await ReadBoundedAsync(response.Content, cancellationToken);
        return (int)response.StatusCode;
    }

    /// <summary>Reads at most <see cref="MaxAnswerBytes"/> of an answer's body, under the caller's deadline (also the RDV-Solidarités write-back's).</summary>
    internal static async Task ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var body = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[8192];
        var total = 0;
        int read;
        while (total < MaxAnswerBytes && (read = await body.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, MaxAnswerBytes - total)), cancellationToken)) > 0)
        {
            total += read;
        }
    }

    /// <summary>30 s, 1 min, 2 min, … up to 6 h, with up to 20 % jitter.</summary>
    internal static TimeSpan Backoff(int attempts)
    {
        var seconds = Math.Min(30 * Math.Pow(2, Math.Max(0, attempts - 1)), TimeSpan.FromHours(6).TotalSeconds);
        return TimeSpan.FromSeconds(seconds * (1 + (Random.Shared.NextDouble() * 0.2)));
    }

    /// <summary>
    /// No redirects, no proxy, and (unless private networks are allowed) connections
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

    internal sealed record DueEvent(
        Guid Id, long TenantId, string Payload, DateTime CreatedAt, int Attempts, string? Url, string Secret, string? PreviousSecret,
        string? Traceparent = null);
}

internal static class DateTimeExtensions
{
    public static DateTimeOffset AsUtcOffset(this DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc), TimeSpan.Zero);
}
