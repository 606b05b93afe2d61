using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Xml.Linq;
using Dapper;
using RappelRdv.Contracts;
using RappelRdv.TestSupport;

namespace RappelRdv.Api.Tests.EndToEnd;

public sealed class RepliesEndToEndTests(EndToEndHarness e2e) : IClassFixture<EndToEndHarness>, IAsyncLifetime
{
    public Task InitializeAsync() => e2e.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private DateTimeOffset Now => e2e.Api.Clock.GetUtcNow();

    /// <summary>An appointment 20 hours ahead whose P1D reminder has gone out by SMS.</summary>
    private async Task<(HttpClient Agenda, TenantKeys Keys)> RemindedAsync(string externalId = "rdv-42")
    {
        var (agenda, keys) = await e2e.TenantAsync("var");
        await e2e.PutAppointmentAsync(agenda, externalId, Now.AddHours(20));
        Assert.Equal(1, await e2e.DispatchAsync());
        Assert.Single(e2e.Twilio.Messages);
        return (agenda, keys);
    }

    private static string? Answer(string twiml) => XDocument.Parse(twiml).Root!.Element("Message")?.Value;

    private async Task<JsonElement> SingleEventAsync(string webhookSecret)
    {
        await e2e.DeliverEventsAsync();
        var call = Assert.Single(e2e.AgendaCalls);
        Assert.True(EndToEndHarness.SignatureIsValid(call, webhookSecret), "the signature must verify with the tenant's secret");
        return JsonDocument.Parse(call.Body!).RootElement;
    }

    [Fact]
    public async Task Oui_merci_confirms_acknowledges_and_tells_the_agenda()
    {
        var (agenda, keys) = await RemindedAsync();

        var twiml = await e2e.CitizenSmsAsync("Oui merci !");

        Assert.Contains("confirm", Answer(twiml)!, StringComparison.OrdinalIgnoreCase);
        var view = await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-42");
        Assert.Equal("confirmed", view!.Status);
        Assert.Contains(view.Messages, m => m.Kind == "reply");
        var evt = await SingleEventAsync(keys.WebhookSecret);
        Assert.Equal("appointment.confirmed", evt.GetProperty("type").GetString());
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$", evt.GetProperty("timestamp").GetString());
        Assert.Equal("rdv-42", evt.GetProperty("data").GetProperty("externalId").GetString());
        Assert.Equal("confirmed", evt.GetProperty("data").GetProperty("status").GetString());
        Assert.Equal("sms", evt.GetProperty("data").GetProperty("channel").GetString());
        Assert.Equal("Oui merci !", evt.GetProperty("data").GetProperty("reply").GetString());
    }

    [Fact]
    public async Task Non_cancels_stops_what_is_pending_and_tells_the_agenda()
    {
        var (agenda, keys) = await e2e.TenantAsync("var", new
        {
            slug = "var", name = "Var", quietHours = (object?)null, notifyOnCreate = false,
            reminders = new[] { new { channel = "sms", before = "P1D" }, new { channel = "sms", before = "PT2H" } },
            webhook = new { url = e2e.Agenda.Url + "/events" },
        });
        await e2e.PutAppointmentAsync(agenda, "rdv-42", Now.AddHours(20));
        await e2e.DispatchAsync();

        var twiml = await e2e.CitizenSmsAsync("non je ne pourrai pas venir");

        Assert.Contains("annul", Answer(twiml)!, StringComparison.OrdinalIgnoreCase);
        var view = await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-42");
        Assert.Equal("cancelled_by_citizen", view!.Status);
        Assert.DoesNotContain(view.Messages, m => m.Status == "pending");
        Assert.Equal("appointment.cancelled_by_citizen", (await SingleEventAsync(keys.WebhookSecret)).GetProperty("type").GetString());
        e2e.Api.Clock.Advance(TimeSpan.FromHours(19));
        Assert.Equal(0, await e2e.DispatchAsync());
        Assert.Single(e2e.Twilio.Messages);
    }

    [Fact]
    public async Task Reporter_asks_for_another_date_and_tells_the_agenda()
    {
        var (agenda, keys) = await RemindedAsync();

        var twiml = await e2e.CitizenSmsAsync("Reporter svp");

        Assert.NotNull(Answer(twiml));
        Assert.Equal("reschedule_requested", (await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-42"))!.Status);
        Assert.Equal("appointment.reschedule_requested", (await SingleEventAsync(keys.WebhookSecret)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task STOP_silences_the_number_for_the_tenant_and_START_undoes_it()
    {
        var (agenda, keys) = await RemindedAsync();
        await e2e.PutAppointmentAsync(agenda, "rdv-43", Now.AddDays(5));

        Assert.NotNull(Answer(await e2e.CitizenSmsAsync("Stop")));
        Assert.True((await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-43"))!.Citizen.OptedOut);
        Assert.Equal("citizen.opted_out", (await SingleEventAsync(keys.WebhookSecret)).GetProperty("type").GetString());
        e2e.Api.Clock.Advance(TimeSpan.FromDays(4));
        await e2e.DispatchAsync();
        Assert.Single(e2e.Twilio.Messages);
        Assert.Contains((await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-43"))!.Messages, m => m.Status == "skipped");

        Assert.NotNull(Answer(await e2e.CitizenSmsAsync("START")));
        Assert.False((await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-43"))!.Citizen.OptedOut);
    }

    [Fact]
    public async Task An_unclear_reply_gets_the_help_text_at_most_once_a_day()
    {
        await RemindedAsync();

        var first = Answer(await e2e.CitizenSmsAsync("c'est où ?"));
        var second = Answer(await e2e.CitizenSmsAsync("allo ?"));
        e2e.Api.Clock.Advance(TimeSpan.FromHours(1));

        Assert.Contains("OUI", first!, StringComparison.Ordinal);
        Assert.Null(second);
        await e2e.DeliverEventsAsync();
        Assert.Empty(e2e.AgendaCalls);
    }

    [Fact]
    public async Task A_number_with_no_upcoming_appointment_gets_no_answer()
    {
        await RemindedAsync();

        Assert.Null(Answer(await e2e.CitizenSmsAsync("OUI", from: "+33699999999")));
    }

    [Fact]
    public async Task A_reply_after_the_start_changes_nothing_and_gets_a_short_answer()
    {
        var (agenda, _) = await RemindedAsync();
        e2e.Api.Clock.Advance(TimeSpan.FromHours(21));

        var answer = Answer(await e2e.CitizenSmsAsync("non"));

        Assert.NotNull(answer);
        Assert.Equal("scheduled", (await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-42"))!.Status);
    }

    [Fact]
    public async Task Forged_and_unsigned_inbound_requests_change_nothing()
    {
        var (agenda, _) = await RemindedAsync();
        var form = new Dictionary<string, string> { ["From"] = "+33612345678", ["Body"] = "NON", ["MessageSid"] = "SMforged" };

        var forged = await e2e.Api.CreateClient().SendAsync(
            TwilioSigner.SignedPost(EndToEndHarness.PublicBaseUrl, "/twilio/sms/inbound", form, authToken: "guessed-token"));
        var unsigned = await e2e.Api.CreateClient().PostAsync("/twilio/sms/inbound", new FormUrlEncodedContent(form));

        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, unsigned.StatusCode);
        Assert.Equal("scheduled", (await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-42"))!.Status);
    }

    [Fact]
    public async Task An_agenda_down_for_a_while_gets_each_event_once_back_with_the_same_id()
    {
        var (_, keys) = await RemindedAsync();
        await e2e.CitizenSmsAsync("OUI");
        e2e.AgendaStatus = 503;

        for (var attempt = 0; attempt < 4; attempt++)
        {
            await e2e.DeliverEventsAsync();
            e2e.Api.Clock.Advance(TimeSpan.FromMinutes(10));
        }

        e2e.AgendaStatus = 200;
        await e2e.DeliverEventsAsync();
        e2e.Api.Clock.Advance(TimeSpan.FromHours(1));
        await e2e.DeliverEventsAsync();

        var calls = e2e.AgendaCalls.ToList();
        Assert.Equal(5, calls.Count);
        Assert.Single(calls.Select(c => c.Headers!["webhook-id"].ToString()).Distinct());
        Assert.All(calls, c => Assert.True(EndToEndHarness.SignatureIsValid(c, keys.WebhookSecret)));
        await using var connection = await e2e.Api.Database.DataSource.OpenConnectionAsync();
        Assert.Equal("delivered", await connection.ExecuteScalarAsync<string>("select status from events"));
    }
}
