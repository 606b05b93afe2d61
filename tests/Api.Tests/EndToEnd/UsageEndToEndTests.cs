using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using RappelRdv.Contracts;
using RappelRdv.TestSupport;

namespace RappelRdv.Api.Tests.EndToEnd;

/// <summary>Usage, budgets and the Twilio account, through the Api, the Worker's sending and the fake Twilio.</summary>
public sealed class UsageEndToEndTests : IClassFixture<EndToEndHarness>, IAsyncLifetime
{
    private readonly EndToEndHarness e2e;

    public UsageEndToEndTests(EndToEndHarness e2e)
    {
        this.e2e = e2e;
        e2e.Api.Settings["Billing:SmsSegmentPrice"] = "0.07";
        e2e.Api.Settings["Billing:CallMinutePrice"] = "0.15";
        e2e.Api.Settings["Billing:BalanceFloor"] = "20";
    }

    public Task InitializeAsync() => e2e.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private DateTimeOffset Now => e2e.Api.Clock.GetUtcNow();

    private static string Phone(int i) => $"06 12 34 56 {i:D2}";

    private async Task<(HttpClient Agenda, TenantKeys Keys)> TenantAsync(string slug, string channel = "sms", object? budget = null) =>
        await e2e.TenantAsync(slug, new
        {
            slug, name = $"Département {slug}", quietHours = (object?)null, notifyOnCreate = false,
            reminders = new[] { new { channel, before = "P1D" } },
            webhook = new { url = e2e.Agenda.Url + "/events" },
            budget,
        });

    private async Task<T> ScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = await e2e.Api.Database.DataSource.OpenConnectionAsync();
        return (await connection.ExecuteScalarAsync<T>(sql, parameters))!;
    }

    private async Task CallEndsAsync(Dictionary<string, string> call, string status, int? seconds)
    {
        var form = new Dictionary<string, string> { ["CallSid"] = call["Sid"], ["CallStatus"] = status };
        if (seconds is { } s)
        {
            form["CallDuration"] = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var response = await e2e.Api.CreateClient().SendAsync(
            TwilioSigner.SignedPost(EndToEndHarness.PublicBaseUrl, new Uri(call["StatusCallback"]).PathAndQuery, form));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Usage_counts_the_SMS_Twilio_took_and_the_answered_calls_in_minutes_rounded_up_per_call()
    {
        var (sms, smsKeys) = await TenantAsync("var");
        for (var i = 0; i < 3; i++)
        {
            await e2e.PutAppointmentAsync(sms, $"rdv-{i}", Now.AddHours(20), phone: Phone(i));
        }

        Assert.Equal(3, await e2e.DispatchAsync());
        // A delivery report of a message already counted counts nothing more.
        var sid = e2e.Twilio.Messages[0]["Sid"];
        await e2e.Api.CreateClient().SendAsync(TwilioSigner.SignedPost(EndToEndHarness.PublicBaseUrl, "/twilio/sms/status",
            new() { ["MessageSid"] = sid, ["MessageStatus"] = "delivered" }));

        var (voice, voiceKeys) = await TenantAsync("var-voix", channel: "voice");
        for (var i = 0; i < 3; i++)
        {
            await e2e.PutAppointmentAsync(voice, $"appel-{i}", Now.AddHours(20), phone: $"04 94 12 34 {i:D2}", channel: "voice");
        }

        Assert.Equal(3, await e2e.DispatchAsync());
        var calls = e2e.Twilio.Calls;
        await CallEndsAsync(calls[0], "completed", 61);   // 2 minutes, as Twilio bills it
        await CallEndsAsync(calls[1], "completed", 60);   // 1 minute
        await CallEndsAsync(calls[2], "no-answer", 0);    // nothing billed; tried again later
        await CallEndsAsync(calls[0], "completed", 61);   // Twilio retrying its callback changes nothing

        var raw = await sms.GetStringAsync("/v1/usage?month=2026-12");
        using (var json = JsonDocument.Parse(raw))
        {
            var root = json.RootElement;
            Assert.Equal("2026-12", root.GetProperty("month").GetString());
            Assert.Equal(3, root.GetProperty("sms").GetProperty("messages").GetInt64());
            var segments = await ScalarAsync<long>("select sum(segments) from messages where tenant_id = (select id from tenants where slug = 'var')");
            Assert.Equal(segments, root.GetProperty("sms").GetProperty("segments").GetInt64());
            Assert.Equal(0, root.GetProperty("voice").GetProperty("calls").GetInt64());
            Assert.Equal(JsonValueKind.Null, root.GetProperty("budget").GetProperty("monthlySegments").ValueKind);
            Assert.Equal(JsonValueKind.Null, root.GetProperty("budget").GetProperty("usedPercent").ValueKind);
            Assert.Equal(Math.Round(segments * 0.07m, 2), root.GetProperty("amount").GetProperty("sms").GetDecimal());
        }

        var voiceUsage = await e2e.Api.WithKey(voiceKeys.ManagerKey).GetFromJsonAsync<UsageReport>("/v1/usage?month=2026-12");
        Assert.Equal(new VoiceUsage(2, 3), voiceUsage!.Voice);
        Assert.Equal(new SmsUsage(0, 0), voiceUsage.Sms);
        var reminder = Assert.Single(voiceUsage.ByKind);
        Assert.Equal(("reminder", 2L, 3L), (reminder.Kind, reminder.Voice.Calls, reminder.Voice.Minutes));
        Assert.Equal(new UsageAmount("EUR", 0m, 0.45m, 0.45m), voiceUsage.Amount);

        // Another month has nothing; the manager key reads the same as the agenda key.
        var november = await e2e.Api.WithKey(smsKeys.ManagerKey).GetFromJsonAsync<UsageReport>("/v1/usage?month=2026-11");
        Assert.Equal((0L, 0L), (november!.Sms.Messages, november.Voice.Calls));
    }

    [Fact]
    public async Task A_budget_alerts_once_at_80_and_100_percent_then_skips_reminders_but_not_cancellations()
    {
        const int limit = 6;
        var (agenda, _) = await TenantAsync("budget", budget: new { monthlySegments = limit, monthlyCallMinutes = (int?)null });
        var tenantId = await ScalarAsync<long>("select id from tenants where slug = 'budget'");

        var sent = 0;
        for (var i = 0; i < 12; i++)
        {
            await e2e.PutAppointmentAsync(agenda, $"rdv-{i}", Now.AddHours(20), phone: Phone(i));
            await e2e.DispatchAsync();
            var status = await ScalarAsync<string>("select status || ':' || coalesce(error, '') from messages where appointment_id = " +
                "(select id from appointments where external_id = @id)", new { id = $"rdv-{i}" });
            var used = await ScalarAsync<long>("select coalesce(sum(segments), 0) from messages where tenant_id = @tenantId and status = 'sent'", new { tenantId });
            var events = await ScalarAsync<string>(
                "select coalesce(string_agg(type, ',' order by type), '') from events where tenant_id = @tenantId", new { tenantId });
            var expected = string.Join(',', new[]
            {
                used >= limit ? "budget.exhausted" : null,
                used * 5 >= limit * 4 ? "budget.threshold_reached" : null,
            }.Where(e => e is not null));
            Assert.Equal(expected, events);
            if (status.StartsWith("skipped", StringComparison.Ordinal))
            {
                Assert.Equal("skipped:budget_exhausted", status);
                Assert.True(used >= limit, $"skipped with {used} of {limit} segments used");
                break;
            }

            Assert.Equal("sent:", status);
            sent++;
        }

        Assert.InRange(sent, 3, 6);
        var usage = await agenda.GetFromJsonAsync<UsageReport>("/v1/usage?month=2026-12");
        Assert.Equal(limit, usage!.Budget.MonthlySegments);
        Assert.True(usage.Budget.UsedPercent >= 100);

        // A cancellation still tells the citizen (past the 15 minutes between two messages); the events were each written once.
        Assert.True((await agenda.DeleteAsync("/v1/appointments/rdv-0")).IsSuccessStatusCode);
        e2e.Api.Clock.Advance(TimeSpan.FromMinutes(16));
        await e2e.DispatchAsync();
        Assert.Equal("sent", await ScalarAsync<string>("select status from messages where kind = 'cancellation'"));
        await e2e.PutAppointmentAsync(agenda, "rdv-late", Now.AddHours(20), phone: Phone(40));
        await e2e.DispatchAsync();
        Assert.Equal(0, await e2e.Billing.WatchBudgetsAsync(CancellationToken.None));
        Assert.Equal(1, await ScalarAsync<long>("select count(*) from events where type = 'budget.exhausted'"));
        Assert.Equal(1, await ScalarAsync<long>("select count(*) from events where type = 'budget.threshold_reached'"));

        await e2e.DeliverEventsAsync();
        var delivered = e2e.AgendaCalls.Select(c => JsonDocument.Parse(c.Body!).RootElement)
            .Single(e => e.GetProperty("type").GetString() == "budget.exhausted");
        Assert.Equal("2026-12", delivered.GetProperty("data").GetProperty("month").GetString());
        Assert.Equal("segments", delivered.GetProperty("data").GetProperty("measure").GetString());
        Assert.Equal(limit, delivered.GetProperty("data").GetProperty("limit").GetInt32());
    }

    [Fact]
    public async Task Call_minutes_cross_their_budget_when_the_call_ends_and_the_next_call_is_skipped()
    {
        var (agenda, _) = await TenantAsync("minutes", channel: "voice", budget: new { monthlySegments = (int?)null, monthlyCallMinutes = 2 });
        await e2e.PutAppointmentAsync(agenda, "appel-1", Now.AddHours(20), phone: "04 94 12 34 01", channel: "voice");
        Assert.Equal(1, await e2e.DispatchAsync());
        await CallEndsAsync(Assert.Single(e2e.Twilio.Calls), "completed", 95);

        Assert.Equal(2, await e2e.Billing.WatchBudgetsAsync(CancellationToken.None));
        Assert.Equal(0, await e2e.Billing.WatchBudgetsAsync(CancellationToken.None));
        await e2e.PutAppointmentAsync(agenda, "appel-2", Now.AddHours(20), phone: "04 94 12 34 02", channel: "voice");
        await e2e.DispatchAsync();

        Assert.Single(e2e.Twilio.Calls);
        Assert.Equal("skipped budget_exhausted", await ScalarAsync<string>(
            "select m.status || ' ' || m.error from messages m join appointments a on a.id = m.appointment_id where a.external_id = 'appel-2'"));
        var usage = await agenda.GetFromJsonAsync<UsageReport>("/v1/usage");
        Assert.Equal(new BudgetUsage(null, null, 2, 100.0), usage!.Budget);
    }

    [Fact]
    public async Task The_operator_reads_every_tenant_as_JSON_or_as_French_Excel_CSV()
    {
        var (agenda, _) = await TenantAsync("var", budget: new { monthlySegments = 1000 });
        await TenantAsync("alpes-maritimes");
        await e2e.PutAppointmentAsync(agenda, "rdv-1", Now.AddHours(20));
        await e2e.DispatchAsync();
        var segments = await ScalarAsync<int>("select segments from messages where kind = 'reminder'");

        var report = await e2e.Api.Admin().GetFromJsonAsync<AdminUsageReport>("/v1/admin/usage?month=2026-12");
        Assert.Equal(["alpes-maritimes", "var"], report!.Tenants.Select(t => t.Tenant));
        Assert.Equal(new SmsUsage(1, segments), report.Tenants[1].Sms);
        Assert.Equal(Math.Round(100.0 * segments / 1000, 1), report.Tenants[1].Budget.UsedPercent);

        var csv = new HttpRequestMessage(HttpMethod.Get, "/v1/admin/usage?month=2026-12");
        csv.Headers.Accept.ParseAdd("text/csv");
        var response = await e2e.Api.Admin().SendAsync(csv);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(Encoding.UTF8.GetPreamble(), bytes[..3]);
        var lines = Encoding.UTF8.GetString(bytes[3..]).Split("\r\n");
        Assert.Equal(4, lines.Length);
        Assert.Equal("", lines[3]);
        Assert.Equal("Identifiant;Nom;Mois;SMS;Segments;Appels;Minutes;Budget segments;Segments utilisés (%);Budget minutes;" +
            "Minutes utilisées (%);Montant SMS;Montant appels;Montant total;Devise", lines[0]);
        Assert.Equal("alpes-maritimes;Département alpes-maritimes;2026-12;0;0;0;0;;;;;0,00;0,00;0,00;EUR", lines[1]);
        var percent = (100.0 * segments / 1000).ToString("F1", System.Globalization.CultureInfo.InvariantCulture).Replace('.', ',');
        var amount = (segments * 0.07m).ToString("F2", System.Globalization.CultureInfo.InvariantCulture).Replace('.', ',');
        Assert.Equal($"var;Département var;2026-12;1;{segments};0;0;1000;{percent};;;{amount};0,00;{amount};EUR", lines[2]);
    }

    [Theory]
    [InlineData("2026-13")]
    [InlineData("2026-1")]
    [InlineData("novembre")]
    [InlineData("2026-11-01")]
    public async Task A_bad_month_is_400_problem_json(string month)
    {
        var (agenda, _) = await TenantAsync("var");

        foreach (var response in new[]
        {
            await agenda.GetAsync($"/v1/usage?month={month}"),
            await e2e.Api.Admin().GetAsync($"/v1/admin/usage?month={month}"),
        })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("month", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await e2e.Api.CreateClient().GetAsync("/v1/usage")).StatusCode);
        Assert.Contains((await agenda.GetAsync("/v1/admin/usage")).StatusCode, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden });
    }

    [Fact]
    public async Task The_balance_is_read_from_Twilio_shown_under_its_floor_and_exposed_in_metrics()
    {
        e2e.Twilio.Balance = 12.5m;

        Assert.Equal(12.5m, await e2e.Billing.ReadBalanceAsync(CancellationToken.None));

        var balanceRequest = Assert.Single(e2e.Twilio.Server.LogEntries, l => l.RequestMessage.Path.EndsWith("/Balance.json", StringComparison.Ordinal));
        Assert.Equal($"/2010-04-01/Accounts/{FakeTwilio.AccountSid}/Balance.json", balanceRequest.RequestMessage.Path);
        Assert.StartsWith("Basic ", balanceRequest.RequestMessage.Headers!["Authorization"].ToString(), StringComparison.Ordinal);
        var account = (await e2e.Api.Admin().GetFromJsonAsync<AdminUsageReport>("/v1/admin/usage"))!.Account;
        Assert.Equal((12.5m, "EUR", 20m, true), (account.Balance, account.Currency, account.BalanceFloor, account.BelowFloor));
        var metrics = await e2e.Api.Metrics().GetStringAsync("/metrics");
        Assert.Contains("rappel_twilio_balance{currency=\"EUR\"} 12.5", metrics, StringComparison.Ordinal);
        Assert.Contains("rappel_sending_paused 0", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_20003_refusal_pauses_all_sending_instead_of_failing_each_message_and_a_balance_back_resumes_it()
    {
        var (agenda, _) = await TenantAsync("var");
        e2e.Twilio.Failures.Enqueue((401, 20003));
        await e2e.PutAppointmentAsync(agenda, "rdv-1", Now.AddHours(20), phone: Phone(1));
        await e2e.DispatchAsync();
        await e2e.PutAppointmentAsync(agenda, "rdv-2", Now.AddHours(20), phone: Phone(2));
        await e2e.DispatchAsync();

        Assert.Equal(1, e2e.Twilio.Received);
        Assert.Equal(2, await ScalarAsync<long>("select count(*) from messages where status = 'pending' and error like 'sending paused:%'"));
        Assert.Equal(0, await ScalarAsync<long>("select count(*) from events where type = 'message.failed'"));
        Assert.Contains("rappel_sending_paused 1", await e2e.Api.Metrics().GetStringAsync("/metrics"), StringComparison.Ordinal);
        Assert.NotNull((await e2e.Api.Admin().GetFromJsonAsync<AdminUsageReport>("/v1/admin/usage"))!.Account.SendingPausedUntil);

        await e2e.Billing.ReadBalanceAsync(CancellationToken.None);
        Assert.Equal(2, await e2e.DispatchAsync());

        Assert.Equal(2, e2e.Twilio.Messages.Count);
        Assert.Equal(2, await ScalarAsync<long>("select count(*) from messages where status = 'sent'"));
    }

    [Fact]
    public async Task A_pause_ends_by_itself_after_its_bounded_time()
    {
        var (agenda, _) = await TenantAsync("var");
        e2e.Twilio.Failures.Enqueue((401, 20003));
        await e2e.PutAppointmentAsync(agenda, "rdv-1", Now.AddHours(20), phone: Phone(1));
        await e2e.DispatchAsync();

        e2e.Api.Clock.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(1, await e2e.DispatchAsync());

        Assert.Single(e2e.Twilio.Messages);
    }

    [Fact]
    public async Task A_budget_is_validated_and_shown_with_the_tenant()
    {
        var bad = await e2e.Api.Admin().PostAsJsonAsync("/v1/admin/tenants",
            new { slug = "bad", name = "Bad", budget = new { monthlySegments = 0, monthlyCallMinutes = -3 } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.Content.ReadAsStringAsync();
        Assert.Contains("budget.monthlySegments", problem, StringComparison.Ordinal);
        Assert.Contains("budget.monthlyCallMinutes", problem, StringComparison.Ordinal);

        await TenantAsync("var", budget: new { monthlySegments = 20000, monthlyCallMinutes = (int?)null });
        var view = await e2e.Api.Admin().GetFromJsonAsync<TenantView>("/v1/admin/tenants/var");
        Assert.Equal(new BudgetView(20000, null), view!.Budget);
        await TenantAsync("gard");
        Assert.Equal(new BudgetView(null, null), (await e2e.Api.Admin().GetFromJsonAsync<TenantView>("/v1/admin/tenants/gard"))!.Budget);
    }
}
