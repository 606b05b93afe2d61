using System.Globalization;
using System.Net;
using Dapper;
using RappelRdv.Api.Metrics;
using RappelRdv.Contracts;

namespace RappelRdv.Api.Tests;

public sealed class StatsMetricsTests(ApiFactory api) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    private static int tests;

    // Each test at its own time: the scrape cache of the shared host must not carry values over.
    private readonly DateTimeOffset now = new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero).AddMinutes(Interlocked.Increment(ref tests));
    private TenantKeys keys = null!;
    private long tenantId;

    public async Task InitializeAsync()
    {
        await api.Database.ResetAsync();
        api.Clock.AdjustTime(now);
        keys = await api.CreateTenantAsync("var", new { slug = "var", name = "Var" });
        tenantId = await StatsFixtures.TenantIdAsync(api.Database, "var");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<long> AppointmentIdAsync()
    {
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>("select max(id) from appointments");
    }

    private async Task MessageAsync(long appointmentId, string kind, string channel, string status, DateTimeOffset dueAt,
        DateTimeOffset? sentAt = null, string? body = null, string direction = "out", string? error = null)
    {
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync(
            """
            insert into messages (id, appointment_id, tenant_id, kind, channel, plan_version, due_at, status, sent_at, body, direction, error,
                created_at, updated_at)
            values (gen_random_uuid(), @appointmentId, @tenantId, @kind, @channel, 1, @dueAt, @status, @sentAt, @body, @direction, @error,
                @dueAt, @dueAt)
            """,
            new { appointmentId, tenantId, kind, channel, dueAt, status, sentAt, body, direction, error });
    }

    private async Task<(HttpResponseMessage Response, string Text, Dictionary<string, double> Series)> ScrapeAsync()
    {
        var response = await api.Metrics().GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();
        var series = text.Split('\n')
            .Where(line => line.StartsWith("rappel_", StringComparison.Ordinal))
            .Select(line => line.Split(' '))
            .ToDictionary(parts => parts[0], parts => double.Parse(parts[1], CultureInfo.InvariantCulture));
        return (response, text, series);
    }

    [Fact]
    public async Task The_scrape_has_the_series_of_the_contract_and_no_personal_data()
    {
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-11-20T09:00:00Z", outcome: "no_show");
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-11-21T09:00:00Z", outcome: "honoured");
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-11-22T09:00:00Z", status: "cancelled_by_citizen");
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-12-01T09:00:00Z", phone: "+33698765432");
        var upcoming = await AppointmentIdAsync();
        await MessageAsync(upcoming, "reminder", "sms", "delivered", now.AddMinutes(-3), sentAt: now.AddMinutes(-3).AddSeconds(4));
        await MessageAsync(upcoming, "reminder", "voice", "failed", now.AddDays(-2), sentAt: now.AddDays(-2),
            error: "21211: The 'To' number +33698765432 is not a valid phone number");
        await MessageAsync(upcoming, "reminder", "sms", "pending", now.AddMinutes(-5));
        await MessageAsync(upcoming, "reminder", "sms", "pending", now.AddDays(2));
        await MessageAsync(upcoming, "reply", "sms", "delivered", now.AddHours(-1), now.AddHours(-1), "OUI merci, à jeudi", "in");
        await MessageAsync(upcoming, "reply", "voice", "delivered", now.AddHours(-1), now.AddHours(-1), "touche 2", "in");
        await MessageAsync(upcoming, "reply", "sms", "delivered", now.AddHours(-1), now.AddHours(-1), "Stop", "in");
        await MessageAsync(upcoming, "reply", "sms", "delivered", now.AddDays(-3), now.AddDays(-3), null, "in");
        await MessageAsync(upcoming, "reminder", "sms", "delivered", now.AddDays(-45), now.AddDays(-45)); // outside the window
        await using (var connection = await api.Database.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync(
                """
                insert into events (id, tenant_id, type, payload, created_at, next_attempt_at)
                values (gen_random_uuid(), @tenantId, 'appointment.confirmed', '{}', @now, @now)
                """,
                new { tenantId, now });
        }

        var (response, text, series) = await ScrapeAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1, series["rappel_messages{tenant=\"var\",channel=\"sms\",kind=\"reminder\",status=\"delivered\"}"]);
        Assert.Equal(1, series["rappel_messages{tenant=\"var\",channel=\"voice\",kind=\"reminder\",status=\"failed\"}"]);
        Assert.Equal(2, series["rappel_messages{tenant=\"var\",channel=\"sms\",kind=\"reminder\",status=\"pending\"}"]);
        Assert.Equal(3, series["rappel_messages{tenant=\"var\",channel=\"sms\",kind=\"reply\",status=\"delivered\"}"]);
        Assert.Equal(1, series["rappel_messages_last_hour{tenant=\"var\",channel=\"sms\",kind=\"reminder\",status=\"delivered\"}"]);
        Assert.Equal(1, series["rappel_messages_last_hour{tenant=\"var\",channel=\"sms\",kind=\"reminder\",status=\"pending\"}"]);
        Assert.DoesNotContain(series.Keys, k => k.StartsWith("rappel_messages_last_hour", StringComparison.Ordinal) && k.Contains("failed", StringComparison.Ordinal));
        Assert.DoesNotContain(series.Keys, k => k.StartsWith("rappel_messages_last_hour", StringComparison.Ordinal) && k.Contains("reply", StringComparison.Ordinal));
        Assert.Equal(1, series["rappel_events_pending"]);
        Assert.Equal(1, series["rappel_replies{tenant=\"var\",channel=\"sms\",intent=\"confirm\"}"]);
        Assert.Equal(1, series["rappel_replies{tenant=\"var\",channel=\"voice\",intent=\"cancel\"}"]);
        Assert.Equal(1, series["rappel_replies{tenant=\"var\",channel=\"sms\",intent=\"opt_out\"}"]);
        Assert.Equal(1, series["rappel_replies{tenant=\"var\",channel=\"sms\",intent=\"unknown\"}"]);
        Assert.Equal(1, series["rappel_appointments{tenant=\"var\",outcome=\"no_show\"}"]);
        Assert.Equal(1, series["rappel_appointments{tenant=\"var\",outcome=\"honoured\"}"]);
        Assert.Equal(1, series["rappel_appointments{tenant=\"var\",outcome=\"cancelled\"}"]);
        Assert.Equal(0, series["rappel_appointments{tenant=\"var\",outcome=\"unknown\"}"]); // the upcoming one is not a past day
        Assert.Equal(0.5, series["rappel_no_show_ratio{tenant=\"var\"}"]);
        Assert.Equal(2, series["rappel_no_show_ratio_sample{tenant=\"var\"}"]);
        Assert.Equal(300, series["rappel_dispatch_lag_seconds"]);
        Assert.Equal(4, series["rappel_dispatch_delay_seconds{quantile=\"0.5\"}"]);
        Assert.Equal(1, series["rappel_dispatch_sent_last_10m"]);
        Assert.Contains("# TYPE rappel_messages gauge", text);
        Assert.DoesNotContain("98765432", text);
        Assert.DoesNotContain("12345678", text);
        Assert.DoesNotContain("merci", text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Replies_in_the_citizens_language_are_counted_as_the_reply_handler_read_them()
    {
        async Task<long> CitizenAsync(string startsAt, string language)
        {
            await StatsFixtures.AddAsync(api.Database, tenantId, startsAt, language: language);
            return await AppointmentIdAsync();
        }

        var turkish = await CitizenAsync("2026-12-01T09:00:00Z", "tr");
        var spanish = await CitizenAsync("2026-12-01T10:00:00Z", "es");
        var french = await CitizenAsync("2026-12-01T11:00:00Z", "fr");
        async Task ReplyAsync(long appointmentId, string body) =>
            await MessageAsync(appointmentId, "reply", "sms", "delivered", now.AddHours(-1), now.AddHours(-1), body, "in");
        await ReplyAsync(turkish, "EVET");
        await ReplyAsync(turkish, "Hayır");
        await ReplyAsync(spanish, "Sí, gracias");
        await ReplyAsync(spanish, "cambiar");
        await ReplyAsync(french, "si"); // "if" in French: no answer for a French citizen
        await ReplyAsync(french, "Oui");

        var (_, _, series) = await ScrapeAsync();

        Assert.Equal(3, series["rappel_replies{tenant=\"var\",channel=\"sms\",intent=\"confirm\"}"]);
        Assert.Equal(1, series["rappel_replies{tenant=\"var\",channel=\"sms\",intent=\"cancel\"}"]);
        Assert.Equal(1, series["rappel_replies{tenant=\"var\",channel=\"sms\",intent=\"reschedule\"}"]);
        Assert.Equal(1, series["rappel_replies{tenant=\"var\",channel=\"sms\",intent=\"other\"}"]);
    }

    [Fact]
    public async Task A_tenant_without_honoured_or_no_show_has_no_ratio_rather_than_a_made_up_one()
    {
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-11-20T09:00:00Z", outcome: "excused");

        var (_, _, series) = await ScrapeAsync();

        Assert.DoesNotContain("rappel_no_show_ratio{tenant=\"var\"}", series.Keys);
        Assert.Equal(0, series["rappel_no_show_ratio_sample{tenant=\"var\"}"]);
        Assert.Equal(0, series["rappel_dispatch_lag_seconds"]);
    }

    [Fact]
    public async Task Values_are_read_again_after_the_cache_expires()
    {
        var first = (await ScrapeAsync()).Series;
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-11-20T09:00:00Z", outcome: "no_show");

        var cached = (await ScrapeAsync()).Series;
        api.Clock.Advance(RappelMetrics.CacheFor + TimeSpan.FromSeconds(1));
        var fresh = (await ScrapeAsync()).Series;

        Assert.Equal(0, first["rappel_appointments{tenant=\"var\",outcome=\"no_show\"}"]);
        Assert.Equal(0, cached["rappel_appointments{tenant=\"var\",outcome=\"no_show\"}"]);
        Assert.Equal(1, fresh["rappel_appointments{tenant=\"var\",outcome=\"no_show\"}"]);
    }

    [Fact]
    public async Task Metrics_need_the_metrics_token_and_refuse_the_operators_key()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.CreateClient().GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.WithKey(keys.ManagerKey).GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.Admin().GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.Metrics().GetAsync("/metrics")).StatusCode);
    }

    [Theory]
    [InlineData("sms", "Oui merci", "fr", "confirm")]
    [InlineData("sms", "NON", "fr", "cancel")]
    [InlineData("sms", "je voudrais reporter", "fr", "reschedule")]
    [InlineData("sms", "STOP", "fr", "opt_out")]
    [InlineData("sms", "START", "fr", "opt_in")]
    [InlineData("sms", "à quelle heure ?", "fr", "other")]
    [InlineData("sms", "EVET", "tr", "confirm")]
    [InlineData("sms", "EVET", "fr", "other")]
    [InlineData("sms", "Değiştir", "tr", "reschedule")]
    [InlineData("sms", "Não", "pt", "cancel")]
    [InlineData("sms", "oui", "ar", "confirm")]
    [InlineData("sms", "نعم", "ar", "confirm")]
    [InlineData("voice", "touche 1", "tr", "confirm")]
    [InlineData("voice", "touche 3", "fr", "reschedule")]
    [InlineData("voice", null, "fr", "unknown")]
    public void A_reply_is_read_by_the_parser_that_acted_on_it(string channel, string? body, string language, string intent) =>
        Assert.Equal(intent, RappelMetrics.Intent(channel, body, language));
}
