using System.Net;
using System.Net.Http.Json;
using Dapper;
using Microsoft.AspNetCore.Mvc.Testing;
using RappelRdv.Contracts;

namespace RappelRdv.Api.Tests;

/// <summary>
/// The dashboard's usage against the budget: the same figures as <c>GET /v1/usage</c>, the budget's
/// levels, the month picker. Messages are written as the Worker writes them: created, then set sent.
/// </summary>
public sealed class DashboardUsageTests : IClassFixture<ApiFactory>, IAsyncLifetime
{
    private const char Nbsp = '\u00A0';

    private readonly ApiFactory api;
    private TenantKeys keys = null!;
    private long tenantId;
    private int counter;

    public DashboardUsageTests(ApiFactory api)
    {
        this.api = api;
        api.Settings["Billing:SmsSegmentPrice"] = "0.07";
        api.Settings["Billing:CallMinutePrice"] = "0.15";
    }

    public async Task InitializeAsync()
    {
        await api.Database.ResetAsync();
        api.Clock.AdjustTime(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));
        keys = await api.CreateTenantAsync("var", Settings(new { monthlySegments = 1000, monthlyCallMinutes = 50 }));
        tenantId = await StatsFixtures.TenantIdAsync(api.Database, "var");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static object Settings(object? budget) => new { slug = "var", name = "Département du Var", budget };

    /// <summary>The operator replaces the tenant's budget.</summary>
    private async Task BudgetAsync(object? budget) =>
        (await api.Admin().PutAsJsonAsync("/v1/admin/tenants/var", Settings(budget))).EnsureSuccessStatusCode();

    /// <summary>A message created pending, then set sent (an SMS) or ended answered (a call), as the Worker and Twilio's callbacks do.</summary>
    private async Task SentAsync(string kind, string channel, string sentAt, int segments = 1, int callSeconds = 0)
    {
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-12-15T09:00:00Z");
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        var id = Guid.NewGuid();
        await connection.ExecuteAsync(
            """
            insert into messages (id, appointment_id, tenant_id, kind, channel, plan_version, due_at, status, created_at, updated_at)
            select @id, max(id), @tenantId, @kind, @channel, 1, @sentAt::timestamptz, 'pending', @sentAt::timestamptz, @sentAt::timestamptz
            from appointments;
            update messages set status = case when channel = 'sms' then 'sent' else 'delivered' end, sent_at = @sentAt::timestamptz,
                delivered_at = case when channel = 'voice' then @sentAt::timestamptz end,
                segments = case when channel = 'sms' then @segments end, call_seconds = case when channel = 'voice' then @callSeconds end,
                provider_id = @providerId, updated_at = @sentAt::timestamptz
            where id = @id;
            """,
            new { id, tenantId, kind, channel, sentAt, segments, callSeconds, providerId = $"SM{Interlocked.Increment(ref counter)}" });
    }

    private Task<string> PageAsync(string path = "/dashboard") => DashboardPages.GetAsync(api, keys.ManagerKey, path);

    /// <summary>The usage section alone, so that a figure elsewhere on the page cannot answer for it.</summary>
    private static string Section(string html)
    {
        var start = html.IndexOf("<section aria-labelledby=\"consommation\">", StringComparison.Ordinal);
        Assert.True(start >= 0, "no usage section");
        return html[start..html.IndexOf("</section>", start, StringComparison.Ordinal)];
    }

    /// <summary>A row of the table by kind, its counts written the French way (1 100).</summary>
    private static string Row(string label, params long[] counts) =>
        $"<th scope=\"row\">{label}</th>" + string.Concat(counts.Select(c =>
            $"<td class=\"n\">{c.ToString("#,0", System.Globalization.CultureInfo.InvariantCulture).Replace(',', Nbsp)}</td>"));

    [Fact]
    public async Task The_section_shows_the_figures_of_GET_v1_usage_for_the_month_by_kind_with_the_amount()
    {
        await SentAsync("reminder", "sms", "2026-11-03T08:00:00Z", segments: 1);
        await SentAsync("reminder", "sms", "2026-11-04T08:00:00Z", segments: 2);
        await SentAsync("confirmation", "sms", "2026-11-05T08:00:00Z", segments: 2);
        await SentAsync("cancellation", "sms", "2026-11-06T08:00:00Z", segments: 1);
        await SentAsync("reminder", "voice", "2026-11-07T08:00:00Z", callSeconds: 61);   // 2 minutes
        await SentAsync("reminder", "voice", "2026-11-08T08:00:00Z", callSeconds: 30);   // 1 minute
        await SentAsync("reminder", "sms", "2026-10-31T22:00:00Z", segments: 5);         // October (UTC), even if November in Paris

        var usage = (await api.WithKey(keys.ManagerKey).GetFromJsonAsync<UsageReport>("/v1/usage?month=2026-11"))!;
        var section = Section(await PageAsync());

        Assert.Equal((new SmsUsage(4, 6), new VoiceUsage(2, 3)), (usage.Sms, usage.Voice));
        Assert.Contains("<h2 id=\"consommation\">Consommation et budget – novembre 2026</h2>", section);
        Assert.Contains($"{usage.Sms.Segments} segments sur 1{Nbsp}000 (0,6{Nbsp}%)", section);
        Assert.Equal(0.6, usage.Budget.UsedPercent);
        Assert.Contains($"{usage.Voice.Minutes} minutes sur 50 (6,0{Nbsp}%)", section);
        Assert.Equal(6.0, usage.Budget.CallMinutesUsedPercent);
        var reminders = usage.ByKind.Single(k => k.Kind == "reminder");
        Assert.Contains(Row("Rappel", reminders.Sms.Messages, reminders.Sms.Segments, reminders.Voice.Calls, reminders.Voice.Minutes), section);
        Assert.Contains(Row("Prise de rendez-vous", 1, 2, 0, 0), section);
        Assert.Contains(Row("Changement", 0, 0, 0, 0), section);       // a kind not sent still has its row
        Assert.Contains(Row("Annulation", 1, 1, 0, 0), section);
        Assert.Contains(Row("Total", usage.Sms.Messages, usage.Sms.Segments, usage.Voice.Calls, usage.Voice.Minutes), section);
        Assert.Contains("<caption>Messages envoyés par type, novembre 2026</caption>", section);
        Assert.Contains("<th scope=\"col\" class=\"n\">Segments</th>", section);
        Assert.Equal(new UsageAmount("EUR", 0.42m, 0.45m, 0.87m), usage.Amount);
        Assert.Contains($"<dt>Montant SMS</dt><dd>0,42{Nbsp}€</dd>", section);
        Assert.Contains($"<dt>Montant appels</dt><dd>0,45{Nbsp}€</dd>", section);
        Assert.Contains($"<dt>Montant total</dt><dd>0,87{Nbsp}€</dd>", section);
        Assert.Contains($"0,07{Nbsp}€ le segment SMS, 0,15{Nbsp}€ la minute d'appel", section);
        Assert.DoesNotContain("gauge warning", section);
        Assert.DoesNotContain("Aucun budget", section);
        Assert.DoesNotContain("Envois suspendus", section);
    }

    [Theory]
    [InlineData(79, "gauge", null)]
    [InlineData(80, "gauge warning", "Alerte : 80\u00A0% atteints. Au moins 80\u00A0% du budget du mois est utilisé. À 100\u00A0%, les rappels et les confirmations par SMS ne partiront plus")]
    [InlineData(100, "gauge exhausted", "Budget épuisé. Les rappels et les confirmations par SMS ne sont plus envoyés ce mois-ci. Les annulations, les avis de changement et les réponses aux personnes partent toujours.")]
    [InlineData(130, "gauge exhausted", "Budget épuisé.")]
    public async Task The_budget_is_highlighted_at_80_and_at_100_percent(int segments, string css, string? sentence)
    {
        await BudgetAsync(new { monthlySegments = 100 });
        await SentAsync("reminder", "sms", "2026-11-10T08:00:00Z", segments: segments - 1);
        await SentAsync("change", "sms", "2026-11-11T08:00:00Z", segments: 1);

        var section = Section(await PageAsync());
        var text = System.Text.RegularExpressions.Regex.Replace(section, "<[^>]+>", "");

        Assert.Contains($"<div class=\"{css}\"><h3>Segments SMS</h3>", section);
        Assert.Contains($"{segments} segments sur 100 ({segments},0{Nbsp}%)", section);
        Assert.Contains($"<rect class=\"used\" width=\"{Math.Min(segments, 100)}\"", section);
        if (sentence is null)
        {
            Assert.DoesNotContain("Alerte", section);
            Assert.DoesNotContain("épuisé", section);
        }
        else
        {
            Assert.Contains(sentence, text);
        }

        // The call minutes have no cap: their usage alone.
        Assert.Contains("<div class=\"gauge\"><h3>Minutes d'appel</h3><p class=\"use\">0 minute, sans budget fixé</p></div>", section);
    }

    [Fact]
    public async Task Without_a_budget_the_section_says_so_and_shows_the_usage_alone()
    {
        await BudgetAsync(null);
        await SentAsync("reminder", "sms", "2026-11-10T08:00:00Z", segments: 3);

        var section = Section(await PageAsync());

        Assert.Contains("Aucun budget mensuel n'est fixé pour votre structure", section);
        Assert.Contains("<p class=\"use\">3 segments, sans budget fixé</p>", section);
        Assert.DoesNotContain("<svg", section);
        Assert.DoesNotContain("gauge warning", section);
        Assert.Contains(Row("Rappel", 1, 3, 0, 0), section);
    }

    [Theory]
    [InlineData("2026-13")]
    [InlineData("2026-1")]
    [InlineData("novembre")]
    [InlineData("2026-11-01")]
    [InlineData("2026-12")]   // a month to come
    [InlineData("1999-12")]
    public async Task A_bad_month_shows_the_current_one_with_a_french_message_and_keeps_the_period(string month)
    {
        await SentAsync("reminder", "sms", "2026-11-10T08:00:00Z", segments: 2);

        var html = await PageAsync($"/dashboard?from=2026-02-01&to=2026-02-28&mois={Uri.EscapeDataString(month)}");
        var section = Section(html);

        Assert.Contains("<p class=\"error\" role=\"alert\">Mois invalide : choisissez le mois en cours ou un mois passé", section);
        Assert.Contains("Consommation et budget – novembre 2026</h2>", section);
        Assert.Contains("2 segments sur 1", section);
        Assert.Contains("name=\"from\" value=\"2026-02-01\"", html);        // the period stands
        Assert.DoesNotContain("name=\"mois\" value=", html);                 // and the bad month is not carried along
    }

    [Fact]
    public async Task An_earlier_month_shows_its_own_figures_and_both_forms_carry_the_other_one_s_parameters()
    {
        await SentAsync("reminder", "sms", "2026-10-12T08:00:00Z", segments: 700);
        await SentAsync("reminder", "sms", "2026-10-13T08:00:00Z", segments: 400);
        await SentAsync("reminder", "sms", "2026-11-10T08:00:00Z", segments: 2);

        var october = await PageAsync("/dashboard?from=2026-02-01&to=2026-02-28&mois=2026-10");
        var section = Section(october);
        var current = await PageAsync("/dashboard");
        var usage = (await api.WithKey(keys.ManagerKey).GetFromJsonAsync<UsageReport>("/v1/usage?month=2026-10"))!;

        Assert.Contains("Consommation et budget – octobre 2026</h2>", section);
        Assert.Contains($"1{Nbsp}100 segments sur 1{Nbsp}000 (110,0{Nbsp}%)", section);
        Assert.Equal(110.0, usage.Budget.UsedPercent);
        Assert.Contains(Row("Rappel", 2, 1100, 0, 0), section);
        // Over: told in the past, not "no longer sent this month".
        Assert.Contains("de ce mois-là n'ont pas été envoyés", section);
        Assert.DoesNotContain("ce mois-ci", section);
        Assert.Contains("<option value=\"2026-10\" selected>octobre 2026</option>", section);
        Assert.Contains("<option value=\"2026-11\">novembre 2026</option>", section);
        Assert.Contains("<option value=\"2025-11\">novembre 2025</option>", section); // twelve months back
        // The month form keeps the period, the period form keeps the month.
        Assert.Contains("<form method=\"get\" action=\"/dashboard#consommation\"", section);
        Assert.Contains("<input type=\"hidden\" name=\"from\" value=\"2026-02-01\" /><input type=\"hidden\" name=\"to\" value=\"2026-02-28\" />", section);
        Assert.Contains("<input type=\"hidden\" name=\"mois\" value=\"2026-10\" />", october);
        Assert.Contains("<th scope=\"row\">S06 · 2 févr.</th>", october);
        // The default page: this month, and no hidden parameter in either form.
        Assert.Contains("Consommation et budget – novembre 2026</h2>", current);
        Assert.DoesNotContain("type=\"hidden\"", current);
    }

    [Fact]
    public async Task An_account_pause_is_told_with_its_end_in_local_time()
    {
        await using (var connection = await api.Database.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync(
                "insert into twilio_account (id, paused_until, paused_at, pause_reason) values (true, @until, @now, '20003: Permission denied')",
                new { until = api.Clock.GetUtcNow().AddMinutes(5), now = api.Clock.GetUtcNow() });
        }

        var paused = Section(await PageAsync());
        api.Clock.Advance(TimeSpan.FromMinutes(6));
        var resumed = Section(await PageAsync());

        Assert.Contains("Envois suspendus jusqu'au 27/11/2026 à 10h05 au plus tard", paused);
        Assert.DoesNotContain("Envois suspendus", resumed);
    }
}
