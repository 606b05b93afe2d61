using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Tenants;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Dispatch;
using RappelRdv.Worker.Retention;

namespace RappelRdv.Worker.Tests;

public sealed class RetentionTests(DispatchHarness harness) : IClassFixture<DispatchHarness>, IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;

    public Task InitializeAsync() => harness.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private PersonalDataRetention Retention() =>
        new(harness.Database.DataSource, harness.Clock, NullLogger<PersonalDataRetention>.Instance);

    private async Task<long> AppointmentAsync(long tenantId, TenantSettings settings, string externalId, string phone, DateTimeOffset startsAt)
    {
        var store = harness.BuildServices().GetRequiredService<AppointmentStore>();
        return (await store.UpsertAsync(tenantId, settings, externalId, TestData.Appointment(startsAt, phone), None)).AppointmentId;
    }

    /// <summary>What the statistics read: nothing of it may change when personal data is erased.</summary>
    private async Task<string> StatisticsColumnsAsync(long appointmentId)
    {
        await using var connection = await harness.Database.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<string>(
            """
            select concat_ws('|', a.tenant_id, a.external_id, a.starts_at, a.duration_minutes, a.status, a.outcome, a.phone_is_mobile,
                a.channel, a.service, a.location_name, a.location_address, a.mode, a.holdout, a.confirmed_at, a.outcome_at,
                a.created_at, a.updated_at,
                (select string_agg(concat_ws(',', m.kind, m.channel, m.direction, m.status, m.due_at, m.sent_at, m.delivered_at,
                    m.provider_id, m.segments, m.attempts), ';' order by m.created_at, m.id) from messages m where m.appointment_id = a.id))
            from appointments a where a.id = @appointmentId
            """,
            new { appointmentId }) ?? "";
    }

    private async Task<(string? Phone, string? FirstName, string? LastName, DateTime? ErasedAt, long Bodies)> PersonalDataAsync(long appointmentId)
    {
        await using var connection = await harness.Database.DataSource.OpenConnectionAsync();
        return await connection.QuerySingleAsync<(string?, string?, string?, DateTime?, long)>(
            """
            select a.phone, a.first_name, a.last_name, a.erased_at,
                   (select count(*) from messages m where m.appointment_id = a.id and m.body is not null)
            from appointments a where a.id = @appointmentId
            """,
            new { appointmentId });
    }

    [Fact]
    public async Task Personal_data_is_erased_retentionDays_after_the_appointment_and_kept_before_statistics_unchanged()
    {
        var (varId, var) = await harness.TenantAsync(TestData.Settings(webhookUrl: "https://agenda.example.org/events") with { RetentionDays = 30 });
        var (gardId, gard) = await harness.TenantAsync(TestData.Settings() with { RetentionDays = 180 });
        var startsAt = harness.Clock.GetUtcNow().AddHours(20);
        var short1 = await AppointmentAsync(varId, var, "rdv-var", "06 11 11 11 11", startsAt);
        var long1 = await AppointmentAsync(gardId, gard, "rdv-gard", "06 22 22 22 22", startsAt);

        // The reminders leave (their text is stored), the citizen answers, the agenda is told.
        await harness.BuildServices().GetRequiredService<Dispatcher>().DispatchDueAsync(None);
        await using (var connection = await harness.Database.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync(
                """
                insert into messages (id, appointment_id, tenant_id, kind, channel, plan_version, due_at, status, body, direction, created_at, updated_at)
                values (gen_random_uuid(), @short1, @varId, 'reply', 'sms', 1, @now, 'delivered', 'Oui merci, Awa Diallo', 'in', @now, @now);
                insert into events (id, tenant_id, type, payload, created_at, status, next_attempt_at, delivered_at)
                values (gen_random_uuid(), @varId, 'appointment.confirmed', '{"data":{"reply":"Oui merci, Awa Diallo"}}', @now, 'delivered', @now, @now);
                insert into opt_outs (tenant_id, phone, created_at) values (@varId, '+33611111111', @now);
                insert into phone_flags (phone, help_sent_at, updated_at) values ('+33611111111', @now, @now), ('+33622222222', @now, @now);
                """,
                new { short1, varId, now = harness.Clock.GetUtcNow() });
        }

        harness.Clock.AdjustTime(startsAt.AddHours(1));
        await harness.BuildServices().GetRequiredService<AppointmentStore>().SetOutcomeAsync(varId, "rdv-var", "honoured", None);
        var statisticsBefore = (await StatisticsColumnsAsync(short1), await StatisticsColumnsAsync(long1));
        Assert.Equal(2, (await PersonalDataAsync(short1)).Bodies);

        // One day before the delay: nothing is touched.
        harness.Clock.AdjustTime(startsAt.AddDays(29));
        var early = await Retention().EraseExpiredAsync(None);
        Assert.Equal(new RetentionReport(0, 0, 0, 0), early);
        Assert.Equal(("+33611111111", "Awa", "Diallo", (DateTime?)null, 2L), await PersonalDataAsync(short1));

        // Past the Var's 30 days: its appointment is erased, the Gard's (180 days) is kept.
        harness.Clock.AdjustTime(startsAt.AddDays(30).AddMinutes(1));
        var report = await Retention().EraseExpiredAsync(None);

        Assert.Equal(new RetentionReport(Appointments: 1, MessageBodies: 2, Events: 1, PhoneFlags: 1), report);
        var erased = await PersonalDataAsync(short1);
        Assert.Equal((null, null, null, 0L), (erased.Phone, erased.FirstName, erased.LastName, erased.Bodies));
        Assert.Equal(harness.Clock.GetUtcNow().UtcDateTime, erased.ErasedAt!.Value, TimeSpan.FromMilliseconds(1));
        Assert.Equal(("+33622222222", "Awa", "Diallo", (DateTime?)null, 1L), await PersonalDataAsync(long1));
        Assert.Equal(statisticsBefore, (await StatisticsColumnsAsync(short1), await StatisticsColumnsAsync(long1)));
        // STOP outlives retention; the flags of a number no appointment holds any more go.
        Assert.Equal(1, await harness.ScalarAsync<long>("select count(*) from opt_outs where phone = '+33611111111'"));
        Assert.Equal(0, await harness.ScalarAsync<long>("select count(*) from phone_flags where phone = '+33611111111'"));
        Assert.Equal(1, await harness.ScalarAsync<long>("select count(*) from phone_flags where phone = '+33622222222'"));
        Assert.Equal(0, await harness.ScalarAsync<long>("select count(*) from events"));
        Assert.Equal(0, await harness.ScalarAsync<long>("select count(*) from messages where body like '%Awa%' or body like '%06%'"));

        // Run twice: nothing more to do.
        Assert.Equal(new RetentionReport(0, 0, 0, 0), await Retention().EraseExpiredAsync(None));

        // Past the Gard's 180 days, its appointment goes too.
        harness.Clock.AdjustTime(startsAt.AddDays(181));
        Assert.Equal(new RetentionReport(1, 1, 0, 1), await Retention().EraseExpiredAsync(None));
        Assert.Null((await PersonalDataAsync(long1)).Phone);
        Assert.Equal(statisticsBefore, (await StatisticsColumnsAsync(short1), await StatisticsColumnsAsync(long1)));
    }

    [Fact]
    public async Task Erasure_goes_in_batches_and_catches_an_appointment_written_again_after_it()
    {
        var (tenantId, settings) = await harness.TenantAsync(TestData.Settings() with { RetentionDays = 1 });
        var startsAt = harness.Clock.GetUtcNow().AddDays(3);
        var ids = new List<long>();
        for (var i = 0; i < 25; i++)
        {
            ids.Add(await AppointmentAsync(tenantId, settings, $"rdv-{i}", $"06 12 34 56 {i:D2}", startsAt.AddMinutes(i)));
        }

        harness.Clock.AdjustTime(startsAt.AddDays(2));
        var report = await Retention().EraseExpiredAsync(None, batchSize: 10);

        Assert.Equal(25, report.Appointments);
        Assert.Equal(0, await harness.ScalarAsync<long>("select count(*) from appointments where phone is not null or first_name is not null or last_name is not null or erased_at is null"));

        // The agenda pushes an old appointment again, with the phone: the next run erases it again.
        await using (var connection = await harness.Database.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("update appointments set phone = '+33612345600', first_name = 'Awa' where id = @id", new { id = ids[0] });
        }

        Assert.Equal(1, (await Retention().EraseExpiredAsync(None, batchSize: 10)).Appointments);
        var again = await PersonalDataAsync(ids[0]);
        Assert.Equal((null, null), (again.Phone, again.FirstName));
    }
}
