using System.Diagnostics;
using Npgsql;
using RappelRdv.Reminders.RdvSolidarites;
using RappelRdv.Reminders.Telemetry;
using RappelRdv.Reminders.Tenants;
using RappelRdv.Worker.Events;
using RappelRdv.Worker.Hosting;

namespace RappelRdv.Worker.RdvSolidarites;

/// <summary>
/// Delivers the write-backs to RDV-Solidarités (<see cref="WriteBacks"/>, CONTRACT §10) from a loop
/// of its own in each Worker, beside the events' and, like it, never inside the dispatch slices: an
/// RDV-Solidarités that is slow holds this loop's senders and nothing that sends an SMS or a call.
/// <para>
/// The egress rules of events: the same connection handler (no proxy, no redirect, public addresses
/// only unless <c>Webhooks__AllowPrivateNetworks</c>), one deadline per attempt
/// (<c>Events__AttemptTimeout</c>) for everything the attempt does — a sign-in, the PATCH, and in
/// password mode the new sign-in and PATCH after a 401 — and <c>Events__PerTenant</c> of a tenant per
/// round of <c>Events__Senders</c>. A round waits for its attempts, so a tenant whose RDV-Solidarités
/// stalls delays the others' write-backs by one deadline at most (10 s by default), well within the
/// 60 s the contract gives. Write-backs are rare (one per cancellation); rounds keep it simple.
/// </para>
/// <para>
/// Retries (5xx, 429 at its Retry-After, 408, timeouts, no connection): 30 s, then doubling up to 6 h,
/// for 3 days (the contract asks for 24 h). 403, 404, 422, any other 4xx and a second 401 are final.
/// </para>
/// <para>
/// A claim carries the Worker's number (<see cref="WorkerPresence"/>) while its attempt is in flight; every
/// <see cref="WorkerPresence.GoneClaimsInterval"/> the loop gives back at once what a Worker that is gone had
/// claimed, rather than after the lease.
/// </para>
/// </summary>
internal sealed class WriteBackDelivery(
    NpgsqlDataSource db, IHttpClientFactory httpClients, RdvSolidaritesSecrets secrets, TimeProvider clock,
    ILogger<WriteBackDelivery> logger, EventOptions? options = null, WorkerPresence? presence = null)
    : BackgroundService
{
    public const string HttpClientName = "rdv-solidarites";

    // Longer than any attempt (at most 30 s): no two Workers write one participation at once.
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    private readonly EventOptions options = options ?? new EventOptions();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var nextGiveBack = clock.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                if (clock.GetUtcNow() >= nextGiveBack)
                {
                    nextGiveBack = clock.GetUtcNow() + WorkerPresence.GoneClaimsInterval;
                    await GiveBackGoneAsync(stoppingToken);
                }

                claimed = await DeliverDueAsync(stoppingToken);
            }
            catch (Exception e)
            {
                if (ClaimLoops.EndsLoop(e, stoppingToken, db, logger, "RDV-Solidarités write-backs"))
                {
                    break;
                }
            }

            if (claimed == 0 && !await ClaimLoops.IdleAsync(options.IdleDelay, clock, stoppingToken))
            {
                break;
            }
        }
    }

    /// <summary>Gives back at once what a Worker that is gone had claimed (<see cref="WriteBacks.GiveBackGoneAsync"/>). Returns how many.</summary>
    public async Task<int> GiveBackGoneAsync(CancellationToken stopping)
    {
        await using var connection = await db.OpenConnectionAsync(stopping);
        var given = await WriteBacks.GiveBackGoneAsync(connection, clock.GetUtcNow(), stopping);
        if (given > 0)
        {
            logger.LogWarning("{Count} write-backs claimed by a Worker that is gone are due again at once", given);
        }

        return given;
    }

    /// <summary>One round: claims what is due (fairly between tenants), delivers it and waits. Returns how many were claimed.</summary>
    public async Task<int> DeliverDueAsync(CancellationToken stopping)
    {
        IReadOnlyList<WriteBacks.Due> due;
        await using (var connection = await db.OpenConnectionAsync(stopping))
        {
            due = await WriteBacks.ClaimAsync(connection, options.Senders, options.PerTenant, Lease, presence?.Number, clock.GetUtcNow(), stopping);
        }

        await Task.WhenAll(due.Select(w => DeliverAsync(w, stopping)));
        return due.Count;
    }

    private async Task DeliverAsync(WriteBacks.Due w, CancellationToken stopping)
    {
        // One span per attempt, linked to the span that enqueued it (a citizen's answer); the PATCH nests in it.
        using var span = RappelTelemetry.StartProcessing("write back excused", w.Traceparent,
            ("rappel.appointment.id", w.AppointmentId), ("rappel.tenant.id", w.TenantId), ("rappel.attempt", w.Attempts));
        WriteBackOutcome outcome;
        try
        {
            await Task.Yield();
            outcome = await AttemptAsync(w, stopping);
            if (!outcome.Done)
            {
                span?.SetStatus(ActivityStatusCode.Error, outcome.Reason);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            await using var giveBack = await db.OpenConnectionAsync(CancellationToken.None);
            await WriteBacks.GiveBackAsync(giveBack, w.AppointmentId, clock.GetUtcNow());
            return;
        }

        try
        {
            await RecordAsync(w, outcome);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // Its lease brings it back: RDV-Solidarités gets excused twice, which changes nothing there.
            logger.LogWarning("The write-back of appointment {AppointmentId} could not be recorded; tried again after its lease ({Reason})",
                w.AppointmentId, e.Message);
        }
    }

    private async Task<WriteBackOutcome> AttemptAsync(WriteBacks.Due w, CancellationToken stopping)
    {
        if (TenantSettings.FromJson(w.Settings).RdvSolidaritesApi is not { } api)
        {
            return WriteBackOutcome.Refused("the tenant has no rdvSolidarites.api any more");
        }

        // One deadline for the whole attempt, body included (HttpClient's own timeout stops at the headers).
        using var deadline = new CancellationTokenSource(options.AttemptTimeout, clock);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stopping, deadline.Token);
        try
        {
            var client = new RdvSolidaritesClient(httpClients.CreateClient(HttpClientName), secrets, clock);
            return await client.WriteExcusedAsync(w.TenantId, api, w.ParticipationId, attempt.Token);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            return WriteBackOutcome.Later($"no complete answer within {options.AttemptTimeout.TotalSeconds:0} seconds");
        }
        catch (HttpRequestException e)
        {
            return WriteBackOutcome.Later($"no answer: {e.HttpRequestError}");
        }
        catch (IOException)
        {
            return WriteBackOutcome.Later("the answer was cut short");
        }
    }

    private async Task RecordAsync(WriteBacks.Due w, WriteBackOutcome outcome)
    {
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(CancellationToken.None);
        if (outcome.Done)
        {
            await WriteBacks.DoneAsync(connection, w.AppointmentId, now);
            logger.LogInformation("Appointment {AppointmentId}: participation {ParticipationId} written back to RDV-Solidarités as excused",
                w.AppointmentId, w.ParticipationId);
            return;
        }

        var created = new DateTimeOffset(DateTime.SpecifyKind(w.CreatedAt, DateTimeKind.Utc));
        if (outcome.Final || now - created > WriteBacks.GiveUpAfter)
        {
            var reason = outcome.Final ? outcome.Reason! : $"gave up after {w.Attempts} attempts in 3 days; last: {outcome.Reason}";
            await WriteBacks.FailAsync(connection, w.AppointmentId, reason, now);
            logger.LogWarning("Appointment {AppointmentId}: write-back to RDV-Solidarités failed: {Reason}", w.AppointmentId, reason);
            return;
        }

        var wait = outcome.RetryAfter is { } retryAfter
            ? TimeSpan.FromTicks(Math.Clamp(retryAfter.Ticks, TimeSpan.FromSeconds(1).Ticks, TimeSpan.FromHours(6).Ticks))
            : EventDelivery.Backoff(w.Attempts);
        await WriteBacks.RetryAsync(connection, w.AppointmentId, outcome.Reason!, now + wait, now);
        logger.LogWarning("Appointment {AppointmentId}: write-back to RDV-Solidarités not done (attempt {Attempts}): {Reason}; next try in {Wait}",
            w.AppointmentId, w.Attempts, outcome.Reason, wait);
    }
}
