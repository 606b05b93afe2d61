using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Events;
using RappelRdv.Reminders.Twilio;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Retention;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace RappelRdv.Worker.Tests;

/// <summary>Erasure that erases: the hash, the numbers in error texts and events, and the messages and calls kept at Twilio.</summary>
public sealed class ErasureTests(DispatchHarness harness) : IClassFixture<DispatchHarness>, IAsyncLifetime
{
    private const string Sms = "SM0123456789abcdef0123456789abcdef";
    private const string Call = "CA0123456789abcdef0123456789abcdef";
    private const string Accounts = $"/2010-04-01/Accounts/{FakeTwilio.AccountSid}";

    public Task InitializeAsync() => harness.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task An_erasure_on_request_also_scrubs_the_error_and_lists_the_message_for_deletion_at_twilio()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        var store = harness.BuildServices().GetRequiredService<AppointmentStore>();
        var appointmentId = (await store.UpsertAsync(tenantId, settings, "rdv-rgpd", TestData.Appointment(harness.Clock.GetUtcNow().AddDays(3)), CancellationToken.None)).AppointmentId;
        await using (var connection = await harness.Database.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync(
                "update messages set provider_id = @Sms, status = 'failed', error = 'unreachable: 06.12.34.56.78' where id = (select id from messages where appointment_id = @appointmentId limit 1)",
                new { Sms, appointmentId });
        }

        Assert.True(await store.ErasePersonalDataAsync(appointmentId, CancellationToken.None));

        Assert.Equal("unreachable: [erased]", await harness.ScalarAsync<string>("select error from messages where provider_id = @Sms", new { Sms }));
        Assert.Equal(1, await harness.ScalarAsync<int>("select count(*) from twilio_deletions where sid = @Sms and done_at is null", new { Sms }));
    }

    [Fact]
    public async Task Retention_also_hands_over_the_SIDs_twilio_sids_recorded_for_the_appointment()
    {
        var (tenantId, settings) = await harness.TenantAsync(TestData.Settings() with { RetentionDays = 30 });
        var store = harness.BuildServices().GetRequiredService<AppointmentStore>();
        var appointmentId = (await store.UpsertAsync(tenantId, settings, "rdv-retried", TestData.Appointment(harness.Clock.GetUtcNow().AddDays(3)), CancellationToken.None)).AppointmentId;
        await using (var connection = await harness.Database.DataSource.OpenConnectionAsync())
        {
            // What the Api records: an earlier try of a call, the SMS a TwiML answer made (Api.Tests: TwilioSidsErasureTests).
            await connection.ExecuteAsync(
                "insert into twilio_sids (sid, appointment_id, created_at) values ('CAearlier', @appointmentId, now()), ('SManswer', @appointmentId, now())",
                new { appointmentId });
        }

        harness.Clock.Advance(TimeSpan.FromDays(60));
        await new PersonalDataRetention(harness.Database.DataSource, harness.Clock, NullLogger<PersonalDataRetention>.Instance)
            .EraseExpiredAsync(CancellationToken.None);

        Assert.Equal(2, await harness.ScalarAsync<int>("select count(*) from twilio_deletions where sid in ('CAearlier', 'SManswer') and done_at is null"));
    }

    [Fact]
    public async Task Retention_clears_the_hash_scrubs_numbers_and_deletes_messages_and_call_recordings_at_twilio_retrying_what_failed()
    {
        var (tenantId, settings) = await harness.TenantAsync(TestData.Settings(webhookUrl: "https://agenda.example.org/events") with { RetentionDays = 30 });
        var services = harness.BuildServices();
        var store = services.GetRequiredService<AppointmentStore>();
        var appointmentId = (await store.UpsertAsync(tenantId, settings, "rdv-old", TestData.Appointment(harness.Clock.GetUtcNow().AddDays(3)), CancellationToken.None)).AppointmentId;
        await using (var connection = await harness.Database.DataSource.OpenConnectionAsync())
        {
            // What a send leaves behind: Twilio's SIDs and its error text, which quotes the number.
            var first = await connection.QueryFirstAsync<Guid>("select id from messages where appointment_id = @appointmentId order by id", new { appointmentId });
            // A second message of the same appointment, for the call.
            var second = Guid.NewGuid();
            await connection.ExecuteAsync(
                "create temp table copy as select * from messages where id = @first; update copy set id = @second; insert into messages select * from copy; drop table copy",
                new { first, second });
            Guid[] ids = [first, second];
            await connection.ExecuteAsync("update messages set provider_id = @Sms, status = 'failed', error = 'Twilio 21614: +33 6 12 34 56 78 is not a mobile' where id = @id", new { Sms, id = ids[0] });
            await connection.ExecuteAsync("update messages set provider_id = @Call, status = 'sent' where id = @id", new { Call, id = ids[1] });
            await EventOutbox.RecordAsync(connection, null, tenantId, AgendaEventTypes.MessageFailed,
                new AgendaEventData("rdv-old", "failed", "sms", Error: "21614: 0612345678 unreachable"), harness.Clock.GetUtcNow());
        }

        harness.Clock.Advance(TimeSpan.FromDays(60));
        await new PersonalDataRetention(harness.Database.DataSource, harness.Clock, NullLogger<PersonalDataRetention>.Instance)
            .EraseExpiredAsync(CancellationToken.None);

        Assert.Equal(0, await harness.ScalarAsync<int>("select length(content_hash) from appointments where id = @appointmentId", new { appointmentId }));
        Assert.Equal("Twilio 21614: [erased] is not a mobile", await harness.ScalarAsync<string>("select error from messages where provider_id = @Sms", new { Sms }));
        var payload = await harness.ScalarAsync<string>("select payload::text from events");
        Assert.DoesNotContain("612345678", payload, StringComparison.Ordinal);
        Assert.Contains("[erased] unreachable", payload, StringComparison.Ordinal);
        Assert.Equal(2, await harness.ScalarAsync<int>("select count(*) from twilio_deletions where done_at is null"));

        // Twilio: the SMS deletion fails once; the call has one recording, deleted before the call.
        var smsAttempts = 0;
        harness.Twilio.Server.Given(Request.Create().WithPath($"{Accounts}/Messages/{Sms}.json").UsingDelete())
            .RespondWith(Response.Create().WithCallback(_ => new WireMock.ResponseMessage { StatusCode = Interlocked.Increment(ref smsAttempts) == 1 ? 500 : 204 }));
        harness.Twilio.Server.Given(Request.Create().WithPath($"{Accounts}/Calls/{Call}/Recordings.json").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("""{"recordings":[{"sid":"RE0001"}]}"""));
        harness.Twilio.Server.Given(Request.Create().WithPath($"{Accounts}/Recordings/RE0001.json").UsingDelete()).RespondWith(Response.Create().WithStatusCode(204));
        harness.Twilio.Server.Given(Request.Create().WithPath($"{Accounts}/Calls/{Call}.json").UsingDelete()).RespondWith(Response.Create().WithStatusCode(204));
        var erasure = new TwilioErasure(harness.Database.DataSource, services.GetRequiredService<IHttpClientFactory>(),
            services.GetRequiredService<IOptions<TwilioOptions>>(), harness.Clock, NullLogger<TwilioErasure>.Instance);

        Assert.Equal(1, await erasure.EraseDueAsync(CancellationToken.None));   // the call; the SMS failed
        Assert.Equal(0, await erasure.EraseDueAsync(CancellationToken.None));   // the SMS waits for its backoff
        harness.Clock.Advance(TwilioErasure.Backoff(1) + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await erasure.EraseDueAsync(CancellationToken.None));

        Assert.Equal(0, await harness.ScalarAsync<int>("select count(*) from twilio_deletions where done_at is null"));
        var deletes = harness.Twilio.Server.LogEntries.Where(e => e.RequestMessage.Method == "DELETE").Select(e => e.RequestMessage.Path).ToList();
        Assert.Equal(2, deletes.Count(p => p == $"{Accounts}/Messages/{Sms}.json"));
        Assert.True(deletes.IndexOf($"{Accounts}/Recordings/RE0001.json") is var recording && recording >= 0
            && recording < deletes.IndexOf($"{Accounts}/Calls/{Call}.json"), string.Join(", ", deletes));
        Assert.All(harness.Twilio.Server.LogEntries.Where(e => e.RequestMessage.Method == "DELETE"),
            e => Assert.StartsWith("Basic ", e.RequestMessage.Headers!["Authorization"].ToString(), StringComparison.Ordinal));
    }
}
