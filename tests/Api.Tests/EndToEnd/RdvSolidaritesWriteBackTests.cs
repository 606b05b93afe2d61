using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dapper;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using RappelRdv.Contracts;

namespace RappelRdv.Api.Tests.EndToEnd;

/// <summary>
/// CONTRACT §10: a citizen's answer to a reminder of an RDV-Solidarités appointment written back to
/// RDV-Solidarités, against a fake of its agent API that authenticates as its code does.
/// </summary>
public sealed class RdvSolidaritesWriteBackTests(EndToEndHarness e2e) : IClassFixture<EndToEndHarness>, IAsyncLifetime
{
    private const string WebhookSecret = "rdvs-var-shared-secret";

    private readonly FakeRdvSolidarites rdvs = new();

    private DateTimeOffset Now => e2e.Api.Clock.GetUtcNow();

    public Task InitializeAsync() => e2e.ResetAsync();

    public Task DisposeAsync()
    {
        rdvs.Dispose();
        return Task.CompletedTask;
    }

    private object PasswordApi(string password = FakeRdvSolidarites.Password) =>
        new { baseUrl = rdvs.BaseUrl, email = FakeRdvSolidarites.Email, password };

    private object PartnerApi() => new
    {
        baseUrl = rdvs.BaseUrl, email = FakeRdvSolidarites.Email, sharedSecret = FakeRdvSolidarites.SharedSecret,
        agent = new { id = FakeRdvSolidarites.AgentId, firstName = FakeRdvSolidarites.AgentFirstName, lastName = FakeRdvSolidarites.AgentLastName },
    };

    private static object Tenant(object? api) => new
    {
        slug = "var", name = "Département du Var", quietHours = (object?)null, notifyOnCreate = false,
        reminders = new[] { new { channel = "sms", before = "P1D" } },
        webhook = new { url = "http://127.0.0.1:9/events" },
        rdvSolidarites = new { secret = WebhookSecret, api },
    };

    private async Task<(HttpClient Agenda, TenantKeys Keys)> TenantAsync(object? api)
    {
        var keys = await e2e.Api.CreateTenantAsync("var", Tenant(api));
        return (e2e.Api.WithKey(keys.ApiKey), keys);
    }

    /// <summary>An RDV 20 hours ahead, as RDV-Solidarités sends it; each participant is reminded by SMS at once.</summary>
    private RdvsWebhook Rdv(params RdvsPerson[] people) => new()
    {
        RdvId = 4201,
        StartsAt = Now.AddHours(20).ToOffset(TimeSpan.FromHours(1)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture),
        Timestamp = Now.ToOffset(TimeSpan.FromHours(1)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture),
        Participants = [.. (people.Length == 0 ? [RdvsPerson.Awa] : people).Select(p => new RdvsParticipant(p))],
    };

    private async Task<RdvSolidaritesAnswer> WebhookAsync(RdvsWebhook hook)
    {
        using var request = FakeRdvSolidarites.SignedWebhook(hook, "var", WebhookSecret);
        var response = await e2e.Api.CreateClient().SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<RdvSolidaritesAnswer>())!;
    }

    private async Task<RdvsWebhook> RemindedAsync(params RdvsPerson[] people)
    {
        var hook = Rdv(people);
        await WebhookAsync(hook);
        Assert.Equal(hook.Participants.Count, await e2e.DispatchAsync());
        return hook;
    }

    private static long ParticipationId(RdvsWebhook hook, RdvsPerson person) =>
        (hook.RdvId * 100) + hook.Participants.ToList().FindIndex(p => p.User == person);

    private Task<AppointmentView?> GetAsync(HttpClient agenda, string externalId) =>
        agenda.GetFromJsonAsync<AppointmentView>($"/v1/appointments/{externalId}");

    private Task<int> WriteBackAsync() => e2e.WriteBacks.DeliverDueAsync(CancellationToken.None);

    [Theory]
    [InlineData("NON")]
    [InlineData("non merci")]
    [InlineData("2")]
    [InlineData("REPORTER")]
    [InlineData("3")]
    public async Task A_cancellation_or_a_request_to_reschedule_writes_excused_once(string reply)
    {
        var (agenda, _) = await TenantAsync(PasswordApi());
        var hook = await RemindedAsync();

        await e2e.CitizenSmsAsync(reply);
        var pending = (await GetAsync(agenda, "rdvs-4201-10"))!.RdvSolidaritesWriteBack;
        Assert.Equal(1, await WriteBackAsync());

        Assert.Equal("pending", pending?.Status);
        Assert.Equal((ParticipationId(hook, RdvsPerson.Awa), "excused"), Assert.Single(rdvs.Written));
        var view = await GetAsync(agenda, "rdvs-4201-10");
        Assert.Equal("done", view!.RdvSolidaritesWriteBack?.Status);
        Assert.Null(view.RdvSolidaritesWriteBack!.Reason);

        // A cancellation after a request to reschedule, or the same answer again: RDV-Solidarités already has it.
        await e2e.CitizenSmsAsync("ANNULER");
        e2e.Api.Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(0, await WriteBackAsync());
        Assert.Single(rdvs.Written);
        Assert.Equal(1, rdvs.SignIns);
    }

    [Theory]
    [InlineData("2")]
    [InlineData("3")]
    public async Task A_key_pressed_during_the_call_writes_excused_too(string digit)
    {
        var (agenda, _) = await TenantAsync(PasswordApi());
        var hook = await RemindedAsync(RdvsPerson.Landline);
        var call = Assert.Single(e2e.Twilio.Calls);

        var form = new Dictionary<string, string> { ["CallSid"] = call["Sid"], ["Digits"] = digit };
        var gathered = await e2e.Api.CreateClient().SendAsync(
            RappelRdv.TestSupport.TwilioSigner.SignedPost(EndToEndHarness.PublicBaseUrl, new Uri(call["Url"] + "/gather").PathAndQuery, form));
        Assert.Equal(HttpStatusCode.OK, gathered.StatusCode);
        Assert.Equal(1, await WriteBackAsync());

        Assert.Equal((ParticipationId(hook, RdvsPerson.Landline), "excused"), Assert.Single(rdvs.Written));
        Assert.Equal("done", (await GetAsync(agenda, "rdvs-4201-13"))!.RdvSolidaritesWriteBack?.Status);
    }

    [Fact]
    public async Task A_confirmation_writes_nothing_and_an_appointment_from_the_agenda_API_neither()
    {
        var (agenda, _) = await TenantAsync(PasswordApi());
        await RemindedAsync();
        await e2e.PutAppointmentAsync(agenda, "rdv-api", Now.AddHours(20), phone: "07 61 23 45 67");
        await e2e.DispatchAsync();

        await e2e.CitizenSmsAsync("OUI");
        await e2e.CitizenSmsAsync("NON", from: "+33761234567");

        Assert.Equal(0, await WriteBackAsync());
        Assert.Empty(rdvs.Written);
        Assert.Equal(0, rdvs.Patches + rdvs.SignIns);
        Assert.Null((await GetAsync(agenda, "rdvs-4201-10"))!.RdvSolidaritesWriteBack);
        Assert.Equal("cancelled_by_citizen", (await GetAsync(agenda, "rdv-api"))!.Status);
        Assert.Null((await GetAsync(agenda, "rdv-api"))!.RdvSolidaritesWriteBack);
    }

    [Fact]
    public async Task A_tenant_without_api_writes_nothing()
    {
        var (agenda, _) = await TenantAsync(null);
        await RemindedAsync();

        await e2e.CitizenSmsAsync("NON");

        Assert.Equal(0, await WriteBackAsync());
        Assert.Null((await GetAsync(agenda, "rdvs-4201-10"))!.RdvSolidaritesWriteBack);
    }

    [Fact]
    public async Task A_first_500_is_tried_again_within_a_minute_and_written_once()
    {
        var (agenda, _) = await TenantAsync(PasswordApi());
        await RemindedAsync();
        rdvs.AnswerNext(500);

        await e2e.CitizenSmsAsync("NON");
        Assert.Equal(1, await WriteBackAsync());
        var retrying = (await GetAsync(agenda, "rdvs-4201-10"))!.RdvSolidaritesWriteBack;
        Assert.Equal(0, await WriteBackAsync());
        e2e.Api.Clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(1, await WriteBackAsync());

        Assert.Equal("pending", retrying?.Status);
        Assert.Contains("500", retrying!.Reason, StringComparison.Ordinal);
        Assert.Single(rdvs.Written);
        Assert.Equal(2, rdvs.Patches);
        Assert.Equal("done", (await GetAsync(agenda, "rdvs-4201-10"))!.RdvSolidaritesWriteBack?.Status);
    }

    [Fact]
    public async Task A_429_is_tried_again_at_its_Retry_After()
    {
        var (agenda, _) = await TenantAsync(PasswordApi());
        await RemindedAsync();
        rdvs.AnswerNext(429);

        await e2e.CitizenSmsAsync("NON");
        await WriteBackAsync();
        // The backoff alone would try again within 36 s; RDV-Solidarités asked for 120.
        e2e.Api.Clock.Advance(TimeSpan.FromSeconds(100));
        Assert.Equal(0, await WriteBackAsync());
        e2e.Api.Clock.Advance(TimeSpan.FromSeconds(21));
        Assert.Equal(1, await WriteBackAsync());

        Assert.Equal(2, rdvs.Patches);
        Assert.Single(rdvs.Written);
        Assert.Equal("done", (await GetAsync(agenda, "rdvs-4201-10"))!.RdvSolidaritesWriteBack?.Status);
    }

    [Fact]
    public async Task A_reply_in_the_citizens_language_writes_excused_too()
    {
        var (agenda, _) = await TenantAsync(PasswordApi());
        var put = await e2e.Api.Admin().PutAsJsonAsync("/v1/admin/tenants/var", new
        {
            slug = "var", name = "Département du Var", quietHours = (object?)null, notifyOnCreate = false,
            reminders = new[] { new { channel = "sms", before = "P1D" } },
            rdvSolidarites = new { secret = WebhookSecret, api = PasswordApi() },
            texts = new { defaultLanguage = "tr" },
        });
        put.EnsureSuccessStatusCode();
        await RemindedAsync();

        await e2e.CitizenSmsAsync("HAYIR");
        await WriteBackAsync();

        Assert.Equal("cancelled_by_citizen", (await GetAsync(agenda, "rdvs-4201-10"))!.Status);
        Assert.Single(rdvs.Written);
    }

    [Fact]
    public async Task Server_errors_are_tried_again_past_the_first_hours()
    {
        var (agenda, _) = await TenantAsync(PasswordApi());
        await RemindedAsync();
        rdvs.AnswerNext(503, 503, 503);

        await e2e.CitizenSmsAsync("NON");
        await WriteBackAsync();
        // Past every backoff of the first hours, and still retried: the contract's 24 h at least.
        for (var i = 0; i < 2; i++)
        {
            e2e.Api.Clock.Advance(TimeSpan.FromHours(7));
            Assert.Equal(1, await WriteBackAsync());
        }

        e2e.Api.Clock.Advance(TimeSpan.FromHours(7));
        Assert.Equal(1, await WriteBackAsync());
        Assert.Equal("done", (await GetAsync(agenda, "rdvs-4201-10"))!.RdvSolidaritesWriteBack?.Status);
        Assert.Equal(4, rdvs.Patches);
    }

    [Fact]
    public async Task Tokens_are_reused_and_expired_ones_lead_to_one_new_sign_in()
    {
        var (agenda, _) = await TenantAsync(PasswordApi());
        var hook = await RemindedAsync(RdvsPerson.Awa, RdvsPerson.Karim, RdvsPerson.Lucie);

        await e2e.CitizenSmsAsync("NON", from: RdvsPerson.Awa.E164!);
        await WriteBackAsync();
        await e2e.CitizenSmsAsync("NON", from: RdvsPerson.Karim.E164!);
        await WriteBackAsync();
        var signInsBeforeExpiry = rdvs.SignIns;
        rdvs.ExpireTokens();
        await e2e.CitizenSmsAsync("REPORTER", from: RdvsPerson.Lucie.E164!);
        await WriteBackAsync();

        Assert.Equal(1, signInsBeforeExpiry);
        Assert.Equal(2, rdvs.SignIns);
        Assert.Equal(
            [ParticipationId(hook, RdvsPerson.Awa), ParticipationId(hook, RdvsPerson.Karim), ParticipationId(hook, RdvsPerson.Lucie)],
            rdvs.Written.Select(w => w.ParticipationId).Order());
        Assert.Equal("done", (await GetAsync(agenda, "rdvs-4201-12"))!.RdvSolidaritesWriteBack?.Status);
    }

    [Fact]
    public async Task A_404_is_final_and_shown_in_GET_the_dashboard_and_the_metrics()
    {
        var (agenda, keys) = await TenantAsync(PasswordApi());
        await RemindedAsync();
        rdvs.AnswerNext(404);

        await e2e.CitizenSmsAsync("NON");
        await WriteBackAsync();
        e2e.Api.Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, await WriteBackAsync());

        var writeBack = (await GetAsync(agenda, "rdvs-4201-10"))!.RdvSolidaritesWriteBack;
        Assert.Equal("failed", writeBack?.Status);
        Assert.Contains("404", writeBack!.Reason, StringComparison.Ordinal);
        Assert.Equal(1, rdvs.Patches);

        var browser = e2e.Api.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var login = new HttpRequestMessage(HttpMethod.Post, "/dashboard/login")
        {
            Content = new FormUrlEncodedContent([new KeyValuePair<string, string>("key", keys.ManagerKey)]),
        };
        login.Headers.Add("Origin", "http://localhost");
        var cookie = (await browser.SendAsync(login)).Headers.GetValues("Set-Cookie").First().Split(';')[0];
        using var page = new HttpRequestMessage(HttpMethod.Get, "/dashboard");
        page.Headers.Add("Cookie", cookie);
        var html = WebUtility.HtmlDecode(await (await browser.SendAsync(page)).Content.ReadAsStringAsync());
        Assert.Contains("RDV-Solidarités n'a pas pu recevoir", html, StringComparison.Ordinal);
        Assert.Contains("rdvs-4201-10", html, StringComparison.Ordinal);

        var metrics = await e2e.Api.Metrics().GetStringAsync("/metrics");
        Assert.Contains("rappel_rdvs_writebacks_total{result=\"failed\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("rappel_rdvs_writebacks_total{result=\"done\"} 0", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_echo_webhook_changes_nothing_and_sends_nothing()
    {
        var (agenda, _) = await TenantAsync(PasswordApi());
        var hook = await RemindedAsync(RdvsPerson.Awa, RdvsPerson.Karim);
        await e2e.CitizenSmsAsync("NON", from: RdvsPerson.Awa.E164!);
        await e2e.CitizenSmsAsync("REPORTER", from: RdvsPerson.Karim.E164!);
        await WriteBackAsync();
        var before = (await GetAsync(agenda, "rdvs-4201-10"), await GetAsync(agenda, "rdvs-4201-11"));
        var events = await EventCountAsync();
        var sent = e2e.Twilio.Messages.Count;

        e2e.Api.Clock.Advance(TimeSpan.FromSeconds(30));
        var echo = await WebhookAsync(hook with
        {
            Event = "updated",
            Timestamp = Now.ToOffset(TimeSpan.FromHours(1)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture),
            Participants = [new(RdvsPerson.Awa, "excused"), new(RdvsPerson.Karim, "excused")],
        });
        e2e.Api.Clock.Advance(TimeSpan.FromMinutes(20));
        await e2e.DispatchAsync();

        Assert.All(echo.Appointments, a => Assert.Equal("unchanged", a.Result));
        Assert.Equal("cancelled_by_citizen", (await GetAsync(agenda, "rdvs-4201-10"))!.Status);
        Assert.Equal("reschedule_requested", (await GetAsync(agenda, "rdvs-4201-11"))!.Status);
        Assert.Equal(before.Item1!.Messages.Count, (await GetAsync(agenda, "rdvs-4201-10"))!.Messages.Count);
        Assert.Equal(before.Item2!.Messages.Count, (await GetAsync(agenda, "rdvs-4201-11"))!.Messages.Count);
        Assert.Equal(sent, e2e.Twilio.Messages.Count);
        Assert.Equal(events, await EventCountAsync());
        Assert.Equal(2, rdvs.Written.Count);
    }

    [Fact]
    public async Task Partner_mode_signs_each_call_as_RDV_Solidarites_checks_it()
    {
        var (agenda, _) = await TenantAsync(PartnerApi());
        var hook = await RemindedAsync();

        await e2e.CitizenSmsAsync("NON");
        await WriteBackAsync();

        Assert.Equal((ParticipationId(hook, RdvsPerson.Awa), "excused"), Assert.Single(rdvs.Written));
        Assert.Equal(0, rdvs.SignIns);
        Assert.Equal("done", (await GetAsync(agenda, "rdvs-4201-10"))!.RdvSolidaritesWriteBack?.Status);
    }

    [Fact]
    public async Task A_participation_id_learnt_from_a_later_webhook_lets_a_waiting_write_back_go()
    {
        var (agenda, _) = await TenantAsync(PasswordApi());
        var hook = await RemindedAsync();
        await using (var connection = await e2e.Api.Database.DataSource.OpenConnectionAsync())
        {
            // As an appointment created before the ids were kept.
            await connection.ExecuteAsync("update appointments set rdvs_participation_id = null");
        }

        await e2e.CitizenSmsAsync("NON");
        var waiting = (await GetAsync(agenda, "rdvs-4201-10"))!.RdvSolidaritesWriteBack;
        e2e.Api.Clock.Advance(TimeSpan.FromSeconds(10));
        await WebhookAsync(hook with
        {
            Event = "updated", Timestamp = Now.ToOffset(TimeSpan.FromHours(1)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture),
        });
        await WriteBackAsync();

        Assert.Equal("failed", waiting?.Status);
        Assert.Contains("participation id", waiting!.Reason, StringComparison.Ordinal);
        Assert.Equal((ParticipationId(hook, RdvsPerson.Awa), "excused"), Assert.Single(rdvs.Written));
        Assert.Equal("done", (await GetAsync(agenda, "rdvs-4201-10"))!.RdvSolidaritesWriteBack?.Status);
    }

    [Fact]
    public async Task Secrets_are_write_only_stored_protected_and_never_logged_and_a_change_takes_effect_at_once()
    {
        var (agenda, _) = await TenantAsync(PasswordApi());
        await RemindedAsync(RdvsPerson.Awa, RdvsPerson.Karim);
        await e2e.CitizenSmsAsync("NON", from: RdvsPerson.Awa.E164!);
        await WriteBackAsync();

        // A new (wrong) password, then partner mode: each used at the next write-back, without a restart.
        var put = await e2e.Api.Admin().PutAsJsonAsync("/v1/admin/tenants/var", Tenant(PasswordApi("not-the-password")));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        await e2e.CitizenSmsAsync("NON", from: RdvsPerson.Karim.E164!);
        await WriteBackAsync();
        var refused = (await GetAsync(agenda, "rdvs-4201-11"))!.RdvSolidaritesWriteBack;
        var partner = await e2e.Api.Admin().PutAsJsonAsync("/v1/admin/tenants/var", Tenant(PartnerApi()));
        var tenant = await e2e.Api.Admin().GetStringAsync("/v1/admin/tenants/var");
        var audit = await e2e.Api.Admin().GetStringAsync("/v1/admin/audit?tenant=var");
        string stored;
        await using (var connection = await e2e.Api.Database.DataSource.OpenConnectionAsync())
        {
            stored = string.Join("\n", await connection.QueryAsync<string>("select settings::text from tenants"));
        }

        Assert.Equal("failed", refused?.Status);
        Assert.Contains("sign-in (401)", refused!.Reason, StringComparison.Ordinal);
        Assert.Equal(2, rdvs.SignIns);
        Assert.Contains("\"sharedSecretSet\":true", tenant, StringComparison.Ordinal);
        Assert.Contains("\"passwordSet\":false", tenant, StringComparison.Ordinal);
        Assert.Contains($"\"baseUrl\":\"{rdvs.BaseUrl}\"", tenant, StringComparison.Ordinal);
        Assert.Contains("\"agent\":{\"id\":4242", tenant, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, partner.StatusCode);
        foreach (var secret in new[] { FakeRdvSolidarites.Password, "not-the-password", FakeRdvSolidarites.SharedSecret })
        {
            Assert.DoesNotContain(secret, await partner.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.DoesNotContain(secret, tenant, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, audit, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, e2e.Api.Log.Text, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("""{"baseUrl":"https://www.rdv-solidarites.fr","email":"rappels@var.fr"}""", "rdvSolidarites.api")]
    [InlineData("""{"baseUrl":"https://www.rdv-solidarites.fr","email":"rappels@var.fr","password":"a","sharedSecret":"0123456789abcdef0"}""", "rdvSolidarites.api")]
    [InlineData("""{"baseUrl":"ftp://www.rdv-solidarites.fr","email":"rappels@var.fr","password":"secret"}""", "rdvSolidarites.api.baseUrl")]
    [InlineData("""{"email":"rappels@var.fr","password":"secret"}""", "rdvSolidarites.api.baseUrl")]
    [InlineData("""{"baseUrl":"https://www.rdv-solidarites.fr","email":"rappels","password":"secret"}""", "rdvSolidarites.api.email")]
    [InlineData("""{"baseUrl":"https://www.rdv-solidarites.fr","email":"rappels@var.fr","sharedSecret":"0123456789abcdef0"}""", "rdvSolidarites.api.agent")]
    [InlineData("""{"baseUrl":"https://www.rdv-solidarites.fr","email":"rappels@var.fr","sharedSecret":"short","agent":{"id":1,"firstName":"A","lastName":"B"}}""", "rdvSolidarites.api.sharedSecret")]
    [InlineData("""{"baseUrl":"https://www.rdv-solidarites.fr","email":"rappels@var.fr","sharedSecret":"0123456789abcdef0","agent":{"firstName":"A","lastName":"B"}}""", "rdvSolidarites.api.agent.id")]
    public async Task A_bad_api_block_is_a_400_naming_the_field(string api, string field)
    {
        var body = "{\"slug\":\"var\",\"name\":\"Var\",\"rdvSolidarites\":{\"secret\":\"" + WebhookSecret + "\",\"api\":" + api + "}}";

        var response = await e2e.Api.Admin().PostAsync("/v1/admin/tenants", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<HttpValidationProblemDetails>();
        Assert.Contains(field, problem!.Errors.Keys);
    }

    private async Task<long> EventCountAsync()
    {
        await using var connection = await e2e.Api.Database.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>("select count(*) from events");
    }
}
