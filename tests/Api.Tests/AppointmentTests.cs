using System.Net;
using System.Net.Http.Json;
using System.Collections.Concurrent;
using Dapper;
using Microsoft.Extensions.Logging;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Appointments;
using RappelRdv.TestSupport;

namespace RappelRdv.Api.Tests;

public sealed class AppointmentTests(ApiFactory api) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    private HttpClient agenda = null!;

    public async Task InitializeAsync()
    {
        await api.Database.ResetAsync();
        api.Clock.AdjustTime(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));
        var keys = await api.CreateTenantAsync("var", new { slug = "var", name = "Var", quietHours = (object?)null });
        agenda = api.WithKey(keys.ApiKey);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static object Appointment(string startsAt = "2026-12-03T09:30:00+01:00", string phone = "06 12 34 56 78") => new
    {
        startsAt,
        durationMinutes = 30,
        citizen = new { phone, firstName = "Awa", lastName = "Diallo" },
        service = "RSA",
        location = new { name = "UTS Toulon Ouest", address = "12 rue Picot, 83000 Toulon", phone = "04 94 00 00 00" },
    };

    [Fact]
    public async Task PUT_creates_then_GET_returns_the_appointment_in_UTC_with_the_phone_in_E164()
    {
        var created = await agenda.PutAsJsonAsync("/v1/appointments/rdv-42", Appointment());

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Contains("\"startsAt\":\"2026-12-03T08:30:00Z\"", await agenda.GetStringAsync("/v1/appointments/rdv-42"), StringComparison.Ordinal);
        var view = await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-42");
        Assert.Equal("rdv-42", view!.ExternalId);
        Assert.Equal(new DateTimeOffset(2026, 12, 3, 8, 30, 0, TimeSpan.Zero), view.StartsAt);
        Assert.Equal(TimeSpan.Zero, view.StartsAt.Offset);
        Assert.Equal("scheduled", view.Status);
        Assert.Null(view.Outcome);
        Assert.Equal(new CitizenView("+33612345678", "sms", false), view.Citizen);
        Assert.Equal("in_person", view.Mode);
        Assert.Equal("UTS Toulon Ouest", view.Location!.Name);
    }

    [Fact]
    public async Task The_answer_to_a_creation_is_what_GET_then_reads()
    {
        // The creation answers from what it wrote, without reading it back: it must be the same, to the byte,
        // even with a clock finer than PostgreSQL's microseconds (the confirmation is due now).
        api.Clock.Advance(TimeSpan.FromTicks(1_234_567));
        var created = await agenda.PutAsJsonAsync("/v1/appointments/same-answer", Appointment(startsAt: "2026-11-28T10:15:00+01:00"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var answer = await created.Content.ReadAsStringAsync();
        Assert.Equal(await agenda.GetStringAsync("/v1/appointments/same-answer"), answer);
        Assert.Equal(3, (await created.Content.ReadFromJsonAsync<AppointmentView>())!.Messages.Count);
    }

    [Fact]
    public async Task Creations_arriving_together_are_each_written_once_with_one_plan()
    {
        // 60 PUTs at once, 40 appointments: 20 of them pushed twice concurrently, as a retrying agenda would.
        var ids = Enumerable.Range(0, 40).Select(i => $"burst-{i}").ToList();
        var puts = ids.Concat(ids.Take(20)).Select(id => agenda.PutAsJsonAsync($"/v1/appointments/{id}", Appointment()));

        var responses = await Task.WhenAll(puts);

        Assert.All(responses, r => Assert.True(r.IsSuccessStatusCode, $"{r.StatusCode}"));
        Assert.Equal(40, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        var perAppointment = (await connection.QueryAsync<(string ExternalId, long Messages)>(
            """
            select a.external_id, count(m.id) from appointments a left join messages m on m.appointment_id = a.id
            where a.external_id like 'burst-%' group by a.external_id
            """)).ToList();
        Assert.Equal(40, perAppointment.Count);
        Assert.All(perAppointment, a => Assert.Equal(3, a.Messages));
    }

    [Fact]
    public async Task A_creation_that_fails_in_a_batch_fails_alone()
    {
        // Below the HTTP API, where a creation can be made to fail in PostgreSQL: a tenant that does not
        // exist breaks the foreign key. Sent among 30 good ones, it must not take its batch down with it.
        var store = new AppointmentStore(api.Database.DataSource, api.Clock);
        var settings = TestData.Settings();
        await using (var connection = await api.Database.DataSource.OpenConnectionAsync())
        {
            var tenantId = await connection.ExecuteScalarAsync<long>("select id from tenants where slug = 'var'");
            var writes = Enumerable.Range(0, 31).Select(i => Task.Run(() => store.UpsertAsync(
                i == 15 ? -1 : tenantId, settings, $"batch-{i}", TestData.Appointment(new DateTimeOffset(2026, 12, 3, 8, 30, 0, TimeSpan.Zero)), CancellationToken.None)))
                .ToList();

            var failure = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => writes[15]);
            Assert.Equal("23503", failure.SqlState);   // foreign_key_violation
            var others = await Task.WhenAll(writes.Where((_, i) => i != 15));
            Assert.All(others, r => Assert.Equal(WriteOutcome.Created, r.Outcome));
            Assert.Equal(30, await connection.ExecuteScalarAsync<long>("select count(*) from appointments where external_id like 'batch-%'"));
        }
    }

    [Fact]
    public async Task A_creation_batch_is_sent_as_one_statement()
    {
        // Npgsql writes the second and later statements of a synchronous batch on the thread pool (its guard
        // against deadlocks): a batch of the stats flag and then the statement waited there, behind the Api's
        // requests. What Npgsql says it executes, at Debug: "Executing command" for one, "Executing batch" for more.
        var executed = new ConcurrentQueue<string>();
        using var logging = LoggerFactory.Create(builder => builder.AddProvider(new CommandLog(executed)).SetMinimumLevel(LogLevel.Debug));
        await using var db = new Npgsql.NpgsqlDataSourceBuilder(api.Database.ConnectionString).UseLoggerFactory(logging).Build();
        var store = new AppointmentStore(db, api.Clock);
        await using var look = await api.Database.DataSource.OpenConnectionAsync();
        var tenantId = await look.ExecuteScalarAsync<long>("select id from tenants where slug = 'var'");

        var created = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => store.UpsertAsync(
            tenantId, TestData.Settings(), $"one-statement-{i}", TestData.Appointment(new DateTimeOffset(2026, 12, 3, 8, 30, 0, TimeSpan.Zero)),
            CancellationToken.None)));

        Assert.All(created, c => Assert.Equal(WriteOutcome.Created, c.Outcome));
        var creations = executed.Where(m => m.StartsWith("Executing", StringComparison.Ordinal) && m.Contains("insert into appointments", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(creations);
        Assert.All(creations, m => Assert.StartsWith("Executing command", m, StringComparison.Ordinal));
        // The ledger's rows written by the statement, not again by the trigger: one ledger count for eight.
        Assert.Equal(8, await look.ExecuteScalarAsync<long>(
            "select coalesce(sum(appointments), 0) from appointment_stat_changes where tenant_id = @tenantId", new { tenantId }));
    }

    /// <summary>Npgsql's command log lines, kept.</summary>
    private sealed class CommandLog(ConcurrentQueue<string> lines) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue(formatter(state, exception));

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task The_creation_writer_keeps_its_connection_from_batch_to_batch_and_writes_again_on_a_new_one_when_it_broke()
    {
        // Its own data source, named, so that its backends can be told from the Api's.
        await using var db = new Npgsql.NpgsqlDataSourceBuilder(api.Database.ConnectionString) { ConnectionStringBuilder = { ApplicationName = "writer-test" } }.Build();
        var store = new AppointmentStore(db, api.Clock);
        var settings = TestData.Settings();
        await using var look = await api.Database.DataSource.OpenConnectionAsync();
        var tenantId = await look.ExecuteScalarAsync<long>("select id from tenants where slug = 'var'");
        // Idle connections in the pool: taken from it for each batch, the writer went round them all.
        var idle = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => db.OpenConnectionAsync().AsTask()));
        foreach (var connection in idle)
        {
            await connection.DisposeAsync();
        }

        Task<WriteResult> Create(string id) =>
            store.UpsertAsync(tenantId, settings, id, TestData.Appointment(new DateTimeOffset(2026, 12, 3, 8, 30, 0, TimeSpan.Zero)), CancellationToken.None);
        Task<int[]> WritersBackends() => look.QueryAsync<int>(
            "select pid from pg_stat_activity where application_name = 'writer-test' and query like '%insert into appointments%'").ContinueWith(t => t.Result.ToArray());

        for (var i = 0; i < 12; i++)
        {
            // One at a time: each its own batch.
            Assert.Equal(WriteOutcome.Created, (await Create($"kept-{i}")).Outcome);
        }

        var backend = Assert.Single(await WritersBackends());

        // Its backend ends (a restart, an administrator): the batch that finds the connection broken runs
        // again on a new one, and the creation is written all the same.
        await look.ExecuteAsync("select pg_terminate_backend(@backend)", new { backend });
        await Eventually.ValueAsync(async () => (await WritersBackends()).Length, n => n == 0, TimeSpan.FromSeconds(10));
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(WriteOutcome.Created, (await Create($"after-{i}")).Outcome);
        }

        Assert.NotEqual(backend, Assert.Single(await WritersBackends()));
    }

    [Fact]
    public async Task A_landline_defaults_to_voice()
    {
        await agenda.PutAsJsonAsync("/v1/appointments/landline", Appointment(phone: "04 94 12 34 56"));

        var view = await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/landline");

        Assert.Equal("voice", view!.Citizen.Channel);
        Assert.Equal("+33494123456", view.Citizen.Phone);
    }

    [Fact]
    public async Task The_same_PUT_again_changes_nothing_not_even_updated_at()
    {
        await agenda.PutAsJsonAsync("/v1/appointments/same", Appointment());
        var before = await Row("same");
        var messagesBefore = await MessageCount();
        api.Clock.Advance(TimeSpan.FromMinutes(5));

        var again = await agenda.PutAsJsonAsync("/v1/appointments/same", Appointment(startsAt: "2026-12-03T08:30:00Z"));

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(before, await Row("same"));
        Assert.Equal(messagesBefore, await MessageCount());
    }

    [Fact]
    public async Task A_new_startsAt_is_a_reschedule_that_asks_for_confirmation_again()
    {
        await agenda.PutAsJsonAsync("/v1/appointments/move", Appointment());
        await using (var connection = await api.Database.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("update appointments set status = 'confirmed', confirmed_at = now()");
        }

        var moved = await agenda.PutAsJsonAsync("/v1/appointments/move", Appointment(startsAt: "2026-12-10T14:00:00+01:00"));

        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        var view = await moved.Content.ReadFromJsonAsync<AppointmentView>();
        Assert.Equal("scheduled", view!.Status);
        Assert.Equal(new DateTimeOffset(2026, 12, 10, 13, 0, 0, TimeSpan.Zero), view.StartsAt);
        Assert.Contains(view.Messages, m => m.Kind == "change" && m.Status == "pending");
        Assert.DoesNotContain(view.Messages, m => m.Kind == "reminder" && m.Status == "pending" && m.DueAt < new DateTimeOffset(2026, 12, 5, 0, 0, 0, TimeSpan.Zero));
    }

    [Fact]
    public async Task DELETE_cancels_stops_what_is_pending_and_is_idempotent()
    {
        await agenda.PutAsJsonAsync("/v1/appointments/cancel-me", Appointment());

        var first = await agenda.DeleteAsync("/v1/appointments/cancel-me");
        var messagesAfterFirst = await MessageCount();
        var second = await agenda.DeleteAsync("/v1/appointments/cancel-me");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(messagesAfterFirst, await MessageCount());
        var view = await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/cancel-me");
        Assert.Equal("cancelled_by_service", view!.Status);
        Assert.DoesNotContain(view.Messages, m => m.Kind != "cancellation" && m.Status == "pending");
        Assert.Single(view.Messages, m => m.Kind == "cancellation");
        Assert.Equal(HttpStatusCode.NotFound, (await agenda.DeleteAsync("/v1/appointments/unknown")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await agenda.PutAsJsonAsync("/v1/appointments/cancel-me", Appointment(startsAt: "2026-12-04T09:30:00+01:00"))).StatusCode);
    }

    [Fact]
    public async Task Outcomes_honoured_and_no_show_wait_for_the_start_excused_does_not()
    {
        await agenda.PutAsJsonAsync("/v1/appointments/future", Appointment());
        await agenda.PutAsJsonAsync("/v1/appointments/past", Appointment(startsAt: "2026-11-20T09:30:00+01:00"));

        var tooEarly = await agenda.PostAsJsonAsync("/v1/appointments/future/outcome", new { outcome = "no_show" });
        var excused = await agenda.PostAsJsonAsync("/v1/appointments/future/outcome", new { outcome = "excused" });
        var noShow = await agenda.PostAsJsonAsync("/v1/appointments/past/outcome", new { outcome = "no_show" });
        var bad = await agenda.PostAsJsonAsync("/v1/appointments/past/outcome", new { outcome = "maybe" });

        Assert.Equal(HttpStatusCode.Conflict, tooEarly.StatusCode);
        Assert.Equal(HttpStatusCode.OK, excused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, noShow.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("no_show", (await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/past"))!.Outcome);
        Assert.Equal(HttpStatusCode.Conflict, (await agenda.PutAsJsonAsync("/v1/appointments/past", Appointment(startsAt: "2026-11-21T09:30:00+01:00"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await agenda.PostAsJsonAsync("/v1/appointments/nope/outcome", new { outcome = "excused" })).StatusCode);
    }

    [Fact]
    public async Task A_past_appointment_is_accepted_and_nothing_is_planned_for_it()
    {
        var response = await agenda.PutAsJsonAsync("/v1/appointments/history", Appointment(startsAt: "2026-01-05T10:00:00+01:00"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Empty((await response.Content.ReadFromJsonAsync<AppointmentView>())!.Messages);
    }

    [Fact]
    public async Task A_tenant_never_sees_nor_changes_another_tenants_appointment()
    {
        await agenda.PutAsJsonAsync("/v1/appointments/mine", Appointment());
        var other = api.WithKey((await api.CreateTenantAsync("other")).ApiKey);

        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync("/v1/appointments/mine")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync("/v1/appointments/mine")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.PostAsJsonAsync("/v1/appointments/mine/outcome", new { outcome = "excused" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await other.PutAsJsonAsync("/v1/appointments/mine", Appointment(startsAt: "2026-12-05T10:00:00+01:00"))).StatusCode);
        Assert.Equal(new DateTimeOffset(2026, 12, 3, 8, 30, 0, TimeSpan.Zero), (await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/mine"))!.StartsAt);
    }

    [Fact]
    public async Task The_manager_key_cannot_write_appointments()
    {
        var keys = await api.CreateTenantAsync("managers");

        var response = await api.WithKey(keys.ManagerKey).PutAsJsonAsync("/v1/appointments/x", Appointment());

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private async Task<string> Row(string externalId)
    {
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        return await connection.QuerySingleAsync<string>(
            "select row_to_json(a)::text from appointments a where external_id = @externalId", new { externalId });
    }

    private async Task<int> MessageCount()
    {
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<int>("select count(*) from messages");
    }
}
