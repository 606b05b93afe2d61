using RappelRdv.Contracts;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Api.RdvSolidarites;

/// <summary>
/// Applies one RDV-Solidarités webhook to the tenant's appointments, one per participant.
/// RDV-Solidarités does not guarantee the order of its webhooks, and retries them: whatever is
/// older than what an appointment already reflects changes nothing, and the same webhook twice
/// changes nothing the second time.
/// </summary>
internal sealed class RdvSolidaritesSync(AppointmentStore store, TimeProvider clock, ILogger logger, Tenant tenant, RdvsChange change)
{
    private const string Stale = "older than the last update applied";

    public async Task<IReadOnlyList<RdvSolidaritesResult>> ApplyAsync(CancellationToken cancellationToken)
    {
        await using var rdvLock = await store.LockRdvSolidaritesAsync(tenant.Id, change.RdvId, cancellationToken);
        var known = (await store.FindRdvSolidaritesAsync(tenant.Id, change.RdvId, cancellationToken))
            .ToDictionary(a => a.ExternalId, StringComparer.Ordinal);
        var inPayload = change.Participants.Select(p => p.ExternalId).ToHashSet(StringComparer.Ordinal);
        var results = new List<RdvSolidaritesResult>();

        foreach (var participant in change.Participants)
        {
            var appointment = known.GetValueOrDefault(participant.ExternalId);
            results.Add(change.Event == Rdvs.Destroyed
                ? await DestroyAsync(participant.ExternalId, appointment, participant.Data?.NotificationsAllowed ?? false, cancellationToken)
                : await ApplyAsync(participant, appointment, cancellationToken));
            if (participant.ParticipationId is { } participationId && change.Event != Rdvs.Destroyed)
            {
                // Kept for the write-back of the citizen's answer (also for appointments created before it was kept).
                await store.RecordParticipationAsync(tenant.Id, participant.ExternalId, participationId, cancellationToken);
            }
        }

        // Participants the RDV no longer has (or a deleted RDV sent without them): their appointments end too.
        foreach (var appointment in known.Values.Where(a => !inPayload.Contains(a.ExternalId)))
        {
            results.Add(change.Event == Rdvs.Destroyed
                ? await DestroyAsync(appointment.ExternalId, appointment, notify: false, cancellationToken)
                : await RemoveAsync(appointment, cancellationToken));
        }

        logger.LogInformation(
            "RDV-Solidarités {Event} of RDV {RdvId} for tenant {Tenant}: {Results}",
            change.Event, change.RdvId, tenant.Slug, string.Join(", ", results.Select(r => r.Result)));
        return results;
    }

    private async Task<RdvSolidaritesResult> ApplyAsync(RdvsParticipant participant, SourcedAppointment? appointment, CancellationToken cancellationToken)
    {
        if (IsStale(appointment))
        {
            return Ignored(participant.ExternalId, Stale);
        }

        if (appointment is { Erased: true })
        {
            // Never write personal data back once it has been erased.
            return Ignored(participant.ExternalId, "personal data already erased");
        }

        if (participant.Status == Rdvs.StatusExcused && appointment is not null && await store.IsWriteBackEchoAsync(appointment, cancellationToken))
        {
            // RDV-Solidarités telling back what RappelRdv wrote to it: nothing more to do, nobody to tell.
            return new RdvSolidaritesResult(participant.ExternalId, RdvSolidaritesResults.Unchanged, "the citizen's own answer, written back by RappelRdv");
        }

        return participant.Status switch
        {
            Rdvs.StatusExcused => await CancelAsync(participant, appointment, AppointmentStatus.CancelledByCitizen, cancellationToken),
            Rdvs.StatusRevoked => await CancelAsync(participant, appointment, AppointmentStatus.CancelledByService, cancellationToken),
            Rdvs.StatusSeen => await RecordOutcomeAsync(participant, appointment, Outcomes.Honoured, cancellationToken),
            Rdvs.StatusNoShow => await RecordOutcomeAsync(participant, appointment, Outcomes.NoShow, cancellationToken),
            _ => Result(participant.ExternalId, await UpsertAsync(participant.ExternalId, participant.Data!, cancellationToken)),
        };
    }

    private async Task<WriteResult> UpsertAsync(string externalId, AppointmentData data, CancellationToken cancellationToken)
    {
        var result = await store.UpsertAsync(tenant.Id, tenant.Settings, externalId, data, cancellationToken,
            source: AppointmentStore.RdvSolidaritesSource, sourceUpdatedAt: change.Timestamp);
        if (result.Outcome == WriteOutcome.Updated)
        {
            await store.StopDisallowedMessagesAsync(result.AppointmentId, data.RemindersAllowed, data.NotificationsAllowed, cancellationToken);
        }

        await MarkAsync(result, cancellationToken);
        return result;
    }

    private async Task<RdvSolidaritesResult> CancelAsync(
        RdvsParticipant participant, SourcedAppointment? appointment, string status, CancellationToken cancellationToken)
    {
        var data = participant.Data!;
        if (appointment is null)
        {
            // First heard of already cancelled: kept for the statistics, and the citizen, who was
            // never told of it by us, is not told of its cancellation either.
            await UpsertAsync(participant.ExternalId, data with { RemindersAllowed = false, NotificationsAllowed = false }, cancellationToken);
            var cancelled = await store.CancelSilentlyAsync(tenant.Id, participant.ExternalId, status, cancellationToken);
            await MarkAsync(cancelled, cancellationToken);
            return new RdvSolidaritesResult(participant.ExternalId, RdvSolidaritesResults.Cancelled);
        }

        // Cancelled by the service: told like a DELETE of the agenda API, when the citizen accepts
        // messages. Excused: the citizen is the one who cancelled, there is nothing to tell.
        var result = status == AppointmentStatus.CancelledByService && data.NotificationsAllowed
            ? await store.CancelByServiceAsync(tenant.Id, tenant.Settings, participant.ExternalId, cancellationToken)
            : await store.CancelSilentlyAsync(tenant.Id, participant.ExternalId, status, cancellationToken);
        await MarkAsync(result, cancellationToken);
        return CancelResult(participant.ExternalId, result, null);
    }

    private async Task<RdvSolidaritesResult> RecordOutcomeAsync(
        RdvsParticipant participant, SourcedAppointment? appointment, string outcome, CancellationToken cancellationToken)
    {
        if (appointment is not null && AppointmentStatus.IsCancelled(appointment.Status))
        {
            return Ignored(participant.ExternalId, $"the appointment is {appointment.Status}");
        }

        // The description first (it may also be what moved the start into the past), then the outcome.
        var described = await UpsertAsync(participant.ExternalId, participant.Data!, cancellationToken);
        if (participant.Data!.StartsAt > clock.GetUtcNow())
        {
            // Like the agenda API, an outcome waits for the start; the agenda will say it again later.
            logger.LogWarning(
                "RDV-Solidarités status {Status} for {ExternalId} before its start: status change ignored",
                participant.Status, participant.ExternalId);
            return Result(participant.ExternalId, described);
        }

        var recorded = await store.SetOutcomeAsync(tenant.Id, participant.ExternalId, outcome, cancellationToken);
        await MarkAsync(recorded, cancellationToken);
        return recorded.Outcome switch
        {
            WriteOutcome.Updated => new RdvSolidaritesResult(participant.ExternalId,
                described.Outcome == WriteOutcome.Created ? RdvSolidaritesResults.Created : RdvSolidaritesResults.Updated),
            // A description refused only because the outcome is already there: nothing changed.
            WriteOutcome.Unchanged when described.Outcome == WriteOutcome.Conflict =>
                new RdvSolidaritesResult(participant.ExternalId, RdvSolidaritesResults.Unchanged),
            WriteOutcome.Unchanged => Result(participant.ExternalId, described),
            _ => Result(participant.ExternalId, recorded),
        };
    }

    /// <summary>A participant removed from the RDV: cancelled by the service, silently (their permissions left with them).</summary>
    private async Task<RdvSolidaritesResult> RemoveAsync(SourcedAppointment appointment, CancellationToken cancellationToken)
    {
        if (IsStale(appointment))
        {
            // Removed by an update older than the one that (re)added them.
            return Ignored(appointment.ExternalId, Stale);
        }

        var result = await store.CancelSilentlyAsync(tenant.Id, appointment.ExternalId, AppointmentStatus.CancelledByService, cancellationToken);
        await MarkAsync(result, cancellationToken);
        return CancelResult(appointment.ExternalId, result, "no longer a participant of the RDV");
    }

    private async Task<RdvSolidaritesResult> DestroyAsync(
        string externalId, SourcedAppointment? appointment, bool notify, CancellationToken cancellationToken)
    {
        if (appointment is null)
        {
            return Ignored(externalId, "no such appointment");
        }

        // Erasure is owed whatever the order the webhooks came in.
        if (IsStale(appointment) && !change.Erase)
        {
            return Ignored(externalId, Stale);
        }

        var result = notify && !change.Erase
            ? await store.CancelByServiceAsync(tenant.Id, tenant.Settings, externalId, cancellationToken)
            : await store.CancelSilentlyAsync(tenant.Id, externalId, AppointmentStatus.CancelledByService, cancellationToken);
        await MarkAsync(result, cancellationToken);
        if (!change.Erase)
        {
            return CancelResult(externalId, result, "RDV deleted");
        }

        if (appointment.Erased && result.Outcome == WriteOutcome.Unchanged)
        {
            return new RdvSolidaritesResult(externalId, RdvSolidaritesResults.Unchanged);
        }

        await store.ErasePersonalDataAsync(appointment.Id, cancellationToken);
        return new RdvSolidaritesResult(externalId, RdvSolidaritesResults.Erased, "RDV deleted for the right to erasure");
    }

    private bool IsStale(SourcedAppointment? appointment) =>
        appointment?.SourceUpdatedAt is { } applied && change.Timestamp < applied;

    private Task MarkAsync(WriteResult result, CancellationToken cancellationToken) =>
        result.AppointmentId == 0
            ? Task.CompletedTask
            : store.MarkSourceUpdatedAsync(result.AppointmentId, change.Timestamp, cancellationToken);

    private static RdvSolidaritesResult CancelResult(string externalId, WriteResult result, string? reason) => result.Outcome switch
    {
        WriteOutcome.Updated => new RdvSolidaritesResult(externalId, RdvSolidaritesResults.Cancelled, reason),
        WriteOutcome.Unchanged => new RdvSolidaritesResult(externalId, RdvSolidaritesResults.Unchanged),
        _ => Result(externalId, result),
    };

    private static RdvSolidaritesResult Result(string externalId, WriteResult result) => result.Outcome switch
    {
        WriteOutcome.Created => new RdvSolidaritesResult(externalId, RdvSolidaritesResults.Created),
        WriteOutcome.Updated => new RdvSolidaritesResult(externalId, RdvSolidaritesResults.Updated),
        WriteOutcome.Unchanged => new RdvSolidaritesResult(externalId, RdvSolidaritesResults.Unchanged),
        WriteOutcome.NotFound => Ignored(externalId, "no such appointment"),
        _ => Ignored(externalId, result.Problem),
    };

    private static RdvSolidaritesResult Ignored(string externalId, string? reason) =>
        new(externalId, RdvSolidaritesResults.Ignored, reason);
}
