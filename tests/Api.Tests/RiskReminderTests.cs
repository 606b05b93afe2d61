using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Appointments;

namespace RappelRdv.Api.Tests;

/// <summary>
/// CONTRACT §11: a citizen who missed an appointment lately gets, on the next one, the rule's extra
/// reminder (targeted) or, for the rule's holdoutPercent, only the plan (held out); the draw is kept,
/// counted by <c>by=risk</c>, and the history it reads goes with an erasure request.
/// </summary>
public sealed class RiskReminderTests(ApiFactory api) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    // 2026-11-27 09:00 UTC: a lookback of 365 days reaches back to 2025-11-27.
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);

    private HttpClient agenda = null!;

    public async Task InitializeAsync()
    {
        await api.Database.ResetAsync();
        api.Clock.AdjustTime(Now);
        agenda = await TenantAsync("var", holdoutPercent: 0);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<HttpClient> TenantAsync(string slug, int holdoutPercent) =>
        api.WithKey((await api.CreateTenantAsync(slug, new
        {
            slug,
            name = slug,
            quietHours = (object?)null,
            reminders = new[] { new { channel = "sms", before = "P2D" } },
            riskReminders = new { minNoShows = 1, lookbackDays = 365, add = new[] { new { channel = "voice", before = "P1D" } }, holdoutPercent },
        })).ApiKey);

    private static object Appointment(string phone, string startsAt) => new { startsAt, citizen = new { phone }, service = "RSA" };

    /// <summary>A past appointment of this number with this outcome.</summary>
    private static async Task PastAsync(HttpClient client, string externalId, string phone, string outcome, string startsAt = "2026-10-01T09:30:00+02:00")
    {
        (await client.PutAsJsonAsync($"/v1/appointments/{externalId}", Appointment(phone, startsAt))).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync($"/v1/appointments/{externalId}/outcome", new { outcome })).EnsureSuccessStatusCode();
    }

    private static async Task<AppointmentView> CreateAsync(HttpClient client, string externalId, string phone, string startsAt = "2026-12-03T09:30:00+01:00")
    {
        var response = await client.PutAsJsonAsync($"/v1/appointments/{externalId}", Appointment(phone, startsAt));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<AppointmentView>())!;
    }

    /// <summary>The rule's extra reminder: a call the day before (the tenant's own plan is an SMS two days before).</summary>
    private static bool HasExtraCall(AppointmentView view) =>
        view.Messages.Any(m => m.Kind == "reminder" && m.Channel == "voice" && m.DueAt == view.StartsAt.AddDays(-1) && m.Status == "pending");

    [Fact]
    public async Task A_citizen_with_a_recent_no_show_is_targeted_and_gets_the_extra_call_on_top_of_the_plan()
    {
        await PastAsync(agenda, "past", "06 12 34 56 78", "no_show");

        var response = await agenda.PutAsJsonAsync("/v1/appointments/next", Appointment("06 12 34 56 78", "2026-12-03T09:30:00+01:00"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadAsStringAsync();
        var view = JsonSerializer.Deserialize<AppointmentView>(created, JsonSerializerOptions.Web)!;
        Assert.Equal("targeted", view.Risk);
        Assert.True(HasExtraCall(view));
        Assert.Contains(view.Messages, m => m.Kind == "reminder" && m.Channel == "sms" && m.DueAt == view.StartsAt.AddDays(-2));
        // The answer is built from what was written: the GET that follows says the same, byte for byte.
        Assert.Equal(created, await agenda.GetStringAsync("/v1/appointments/next"));
        // The past appointment itself was 'none': its citizen had missed nothing before it.
        Assert.Equal("none", (await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/past"))!.Risk);
    }

    [Fact]
    public async Task Honoured_excused_too_old_other_tenants_and_new_citizens_are_none_and_get_only_the_plan()
    {
        await PastAsync(agenda, "honoured", "06 11 11 11 11", "honoured");
        await PastAsync(agenda, "excused", "06 22 22 22 22", "excused");
        // 2025-11-20 started more than 365 days before now.
        await PastAsync(agenda, "too-old", "06 33 33 33 33", "no_show", "2025-11-20T09:30:00+01:00");
        var other = await TenantAsync("herault", holdoutPercent: 0);
        await PastAsync(other, "elsewhere", "06 44 44 44 44", "no_show");

        foreach (var (id, phone) in new[] { ("h", "06 11 11 11 11"), ("e", "06 22 22 22 22"), ("o", "06 33 33 33 33"), ("t", "06 44 44 44 44"), ("n", "06 55 55 55 55") })
        {
            var view = await CreateAsync(agenda, id, phone);
            Assert.Equal("none", view.Risk);
            Assert.False(HasExtraCall(view), id);
            Assert.Single(view.Messages, m => m.Kind == "reminder");
        }

        // Two no-shows needed: one is not enough.
        var strict = api.WithKey((await api.CreateTenantAsync("strict", new
        {
            slug = "strict", name = "strict", quietHours = (object?)null,
            riskReminders = new { minNoShows = 2, lookbackDays = 730, add = new[] { new { channel = "voice", before = "P1D" } } },
        })).ApiKey);
        await PastAsync(strict, "once", "06 66 66 66 66", "no_show");
        Assert.Equal("none", (await CreateAsync(strict, "after-once", "06 66 66 66 66")).Risk);
        await PastAsync(strict, "twice", "06 66 66 66 66", "no_show", "2026-06-01T09:30:00+02:00");
        Assert.Equal("targeted", (await CreateAsync(strict, "after-twice", "06 66 66 66 66")).Risk);
    }

    [Fact]
    public async Task With_a_holdout_of_half_both_groups_are_drawn_only_the_targeted_are_called_and_by_risk_counts_what_GET_shows()
    {
        var half = await TenantAsync("half", holdoutPercent: 50);
        const int Citizens = 60;
        var phones = Enumerable.Range(0, Citizens).Select(i => $"06 70 00 {i / 100:00} {i % 100:00}").ToList();
        foreach (var (phone, i) in phones.Select((p, i) => (p, i)))
        {
            await PastAsync(half, $"past-{i}", phone, "no_show");
        }

        var drawn = new List<AppointmentView>();
        foreach (var (phone, i) in phones.Select((p, i) => (p, i)))
        {
            drawn.Add(await CreateAsync(half, $"next-{i}", phone));
        }

        // Both groups: the chance that 60 fair draws all fall on one side is 2^-59.
        var targeted = drawn.Where(v => v.Risk == "targeted").ToList();
        var heldOut = drawn.Where(v => v.Risk == "held_out").ToList();
        Assert.NotEmpty(targeted);
        Assert.NotEmpty(heldOut);
        Assert.Equal(Citizens, targeted.Count + heldOut.Count);
        Assert.All(targeted, v => Assert.True(HasExtraCall(v)));
        Assert.All(heldOut, v => Assert.False(HasExtraCall(v)));
        Assert.All(heldOut, v => Assert.Single(v.Messages, m => m.Kind == "reminder"));

        // by=risk counts what GET shows, appointment by appointment.
        var shown = new List<string>();
        for (var i = 0; i < Citizens; i++)
        {
            shown.Add((await half.GetFromJsonAsync<AppointmentView>($"/v1/appointments/past-{i}"))!.Risk);
            shown.Add((await half.GetFromJsonAsync<AppointmentView>($"/v1/appointments/next-{i}"))!.Risk);
        }

        var stats = (await half.GetFromJsonAsync<NoShowStats>("/v1/stats/no-show?from=2026-09-01&to=2026-12-31&by=risk"))!;
        Assert.Equal(["targeted", "held_out", "none"], stats.Rows.Select(r => r.Key));
        foreach (var row in stats.Rows)
        {
            Assert.Equal(shown.Count(r => r == row.Key), row.Appointments);
        }

        Assert.Equal(Citizens, stats.Rows.Single(r => r.Key == "none").NoShow);
        Assert.Equal(0, stats.Rows.Single(r => r.Key == "targeted").NoShow);
    }

    [Fact]
    public async Task A_reschedule_keeps_the_draw_and_plans_the_extra_call_again()
    {
        await PastAsync(agenda, "past", "06 12 34 56 78", "no_show");
        var first = await CreateAsync(agenda, "next", "06 12 34 56 78");
        Assert.Equal("targeted", first.Risk);
        // Had the draw been made again, the citizen would no longer be at risk.
        (await agenda.PostAsJsonAsync("/v1/appointments/past/outcome", new { outcome = "honoured" })).EnsureSuccessStatusCode();

        var moved = await agenda.PutAsJsonAsync("/v1/appointments/next", Appointment("06 12 34 56 78", "2026-12-10T14:00:00+01:00"));

        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        var view = (await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/next"))!;
        Assert.Equal("targeted", view.Risk);
        Assert.True(HasExtraCall(view));
        Assert.Contains(view.Messages, m => m.Channel == "voice" && m.DueAt == first.StartsAt.AddDays(-1) && m.Status == "cancelled");
    }

    [Fact]
    public async Task The_rule_is_shown_changed_and_turned_off_and_a_bad_one_is_400_naming_each_field()
    {
        var shown = (await api.Admin().GetFromJsonAsync<TenantView>("/v1/admin/tenants/var"))!.RiskReminders!;
        Assert.Equal((1, 365, 0), (shown.MinNoShows, shown.LookbackDays, shown.HoldoutPercent));
        Assert.Equal([new ReminderStepView("voice", "P1D", false)], shown.Add);

        var changed = await api.Admin().PutAsJsonAsync("/v1/admin/tenants/var", new
        {
            slug = "var", name = "var",
            riskReminders = new { minNoShows = 2, lookbackDays = 730, add = new[] { new { channel = "sms", before = "PT3H", onlyIfUnconfirmed = true } }, holdoutPercent = 50 },
        });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        var rule = (await api.Admin().GetFromJsonAsync<TenantView>("/v1/admin/tenants/var"))!.RiskReminders!;
        Assert.Equal((2, 730, 50), (rule.MinNoShows, rule.LookbackDays, rule.HoldoutPercent));
        Assert.Equal([new ReminderStepView("sms", "PT3H", true)], rule.Add);

        (await api.Admin().PutAsJsonAsync("/v1/admin/tenants/var", new { slug = "var", name = "var", riskReminders = (object?)null })).EnsureSuccessStatusCode();
        Assert.Null((await api.Admin().GetFromJsonAsync<TenantView>("/v1/admin/tenants/var"))!.RiskReminders);

        var bad = await api.Admin().PostAsJsonAsync("/v1/admin/tenants", new
        {
            slug = "bad", name = "bad",
            riskReminders = new { minNoShows = 0, lookbackDays = 731, add = new[] { new { channel = "fax", before = "P90D" } }, holdoutPercent = 51 },
        });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        var errors = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        foreach (var field in new[] { "riskReminders.minNoShows", "riskReminders.lookbackDays", "riskReminders.holdoutPercent", "riskReminders.add[0].channel", "riskReminders.add[0].before" })
        {
            Assert.True(errors.TryGetProperty(field, out _), field);
        }

        var missing = await api.Admin().PostAsJsonAsync("/v1/admin/tenants", new { slug = "bad", name = "bad", riskReminders = new { lookbackDays = 0, add = Array.Empty<object>() } });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var named = (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        foreach (var field in new[] { "riskReminders.minNoShows", "riskReminders.lookbackDays", "riskReminders.add" })
        {
            Assert.True(named.TryGetProperty(field, out _), field);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await api.Admin().GetAsync("/v1/admin/tenants/bad")).StatusCode);
    }

    [Fact]
    public async Task An_erasure_request_removes_the_history_whether_kept_by_the_phone_or_by_the_citizens_key()
    {
        await PastAsync(agenda, "with-phone", "06 12 34 56 78", "no_show");
        await PastAsync(agenda, "keyed", "06 12 34 56 78", "no_show", "2026-03-02T09:30:00+01:00");
        // What the nightly retention does to a no-show the rule still looks back to: the key in place of the phone.
        var tenantId = await ScalarAsync<long>("select id from tenants where slug = 'var'");
        var settings = (await new RappelRdv.Reminders.Tenants.TenantDirectory(api.Database.DataSource).FindAsync(tenantId, CancellationToken.None))!.Settings;
        Assert.Equal(2, await NoShowHistory.KeepAsync(
            api.Database.DataSource, tenantId, settings.RiskReminders, settings.HistoryKey!, Now, Now, CancellationToken.None));
        await ScalarAsync<int>("update appointments set phone = null, erased_at = now() where external_id = 'keyed' returning 1");

        var erased = await api.Admin().PostAsJsonAsync("/v1/admin/tenants/var/erasures", new { phone = "0612345678" });

        Assert.Equal(new ErasureResult(2), await erased.Content.ReadFromJsonAsync<ErasureResult>());
        Assert.Equal(0, await ScalarAsync<long>("select count(*) from appointments where citizen_key is not null or phone is not null"));
        Assert.Equal("none", (await CreateAsync(agenda, "next", "06 12 34 56 78")).Risk);
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        return (await connection.ExecuteScalarAsync<T>(sql))!;
    }
}
