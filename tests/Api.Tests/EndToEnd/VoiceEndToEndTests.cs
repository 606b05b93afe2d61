using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Xml.Linq;
using RappelRdv.Contracts;
using RappelRdv.TestSupport;

namespace RappelRdv.Api.Tests.EndToEnd;

public sealed class VoiceEndToEndTests(EndToEndHarness e2e) : IClassFixture<EndToEndHarness>, IAsyncLifetime
{
    public Task InitializeAsync() => e2e.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private DateTimeOffset Now => e2e.Api.Clock.GetUtcNow();

    /// <summary>A landline citizen 20 hours ahead of an appointment: the reminder is a call, placed at once.</summary>
    private async Task<(HttpClient Agenda, TenantKeys Keys, Dictionary<string, string> Call)> CalledAsync(object? quietHours = null)
    {
        var (agenda, keys) = await e2e.TenantAsync("var", new
        {
            slug = "var", name = "Var", quietHours, notifyOnCreate = false,
            reminders = new[] { new { channel = "voice", before = "P1D" } },
            webhook = new { url = e2e.Agenda.Url + "/events" },
        });
        await e2e.PutAppointmentAsync(agenda, "rdv-7", Now.AddHours(20), phone: "04 94 12 34 56", channel: "voice");
        Assert.Equal(1, await e2e.DispatchAsync());
        return (agenda, keys, Assert.Single(e2e.Twilio.Calls));
    }

    private async Task<XElement> TwilioPostsAsync(string url, Dictionary<string, string> form)
    {
        var uri = new Uri(url);
        var response = await e2e.Api.CreateClient().SendAsync(TwilioSigner.SignedPost(EndToEndHarness.PublicBaseUrl, uri.PathAndQuery, form));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return XDocument.Parse(await response.Content.ReadAsStringAsync()).Root!;
    }

    private async Task CallStatusAsync(string url, string sid, string status)
    {
        var form = new Dictionary<string, string> { ["CallSid"] = sid, ["CallStatus"] = status };
        var response = await e2e.Api.CreateClient().SendAsync(TwilioSigner.SignedPost(EndToEndHarness.PublicBaseUrl, new Uri(url).PathAndQuery, form));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_Calls_request_carries_the_script_url_status_callback_and_answering_machine_detection()
    {
        var (_, _, call) = await CalledAsync();

        Assert.Equal("+33494123456", call["To"]);
        Assert.Equal("+33900000000", call["From"]);
        Assert.Matches(@"^http://rappel\.test/twilio/voice/[0-9a-f]{32}/[0-9a-f]{32}$", call["Url"]);
        Assert.Equal(call["Url"] + "/status", call["StatusCallback"]);
        Assert.Equal("DetectMessageEnd", call["MachineDetection"]);
        Assert.Equal("30", call["Timeout"]);
        Assert.Contains("completed", call["StatusCallbackEvent"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_script_speaks_French_and_gathers_one_key()
    {
        var (_, _, call) = await CalledAsync();

        var twiml = await TwilioPostsAsync(call["Url"], new() { ["CallSid"] = call["Sid"], ["AnsweredBy"] = "human" });

        var says = twiml.Descendants("Say").ToList();
        Assert.NotEmpty(says);
        Assert.All(says, say => Assert.Equal("fr-FR", say.Attribute("language")?.Value));
        Assert.Contains(says, say => say.Value.Contains("RSA", StringComparison.Ordinal));
        var gather = Assert.Single(twiml.Elements("Gather"));
        Assert.Equal("1", gather.Attribute("numDigits")?.Value);
        Assert.Equal(call["Url"] + "/gather", gather.Attribute("action")?.Value);
        Assert.Contains("tapez 1", gather.Element("Say")!.Value, StringComparison.Ordinal);
        Assert.Equal(call["Url"] + "?again=1", twiml.Element("Redirect")?.Value);
        Assert.DoesNotContain("+33494123456", twiml.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1", "confirmed", "appointment.confirmed")]
    [InlineData("2", "cancelled_by_citizen", "appointment.cancelled_by_citizen")]
    [InlineData("3", "reschedule_requested", "appointment.reschedule_requested")]
    public async Task A_key_has_the_effect_of_the_SMS_reply(string digit, string status, string eventType)
    {
        var (agenda, keys, call) = await CalledAsync();

        var twiml = await TwilioPostsAsync(call["Url"] + "/gather", new() { ["CallSid"] = call["Sid"], ["Digits"] = digit });

        Assert.NotNull(twiml.Element("Hangup"));
        Assert.True(twiml.Elements("Say").Count() >= 2, "an acknowledgment, then goodbye");
        Assert.Equal(status, (await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-7"))!.Status);
        await e2e.DeliverEventsAsync();
        var evt = JsonDocument.Parse(Assert.Single(e2e.AgendaCalls).Body!).RootElement;
        Assert.Equal(eventType, evt.GetProperty("type").GetString());
        Assert.Equal("voice", evt.GetProperty("data").GetProperty("channel").GetString());
        Assert.True(EndToEndHarness.SignatureIsValid(e2e.AgendaCalls.Single(), keys.WebhookSecret));
    }

    [Fact]
    public async Task Nine_repeats_and_an_unknown_key_is_not_understood()
    {
        var (agenda, _, call) = await CalledAsync();

        var repeat = await TwilioPostsAsync(call["Url"] + "/gather", new() { ["CallSid"] = call["Sid"], ["Digits"] = "9" });
        var wrong = await TwilioPostsAsync(call["Url"] + "/gather", new() { ["CallSid"] = call["Sid"], ["Digits"] = "7" });

        Assert.Equal(call["Url"] + "?again=1", repeat.Element("Redirect")?.Value);
        Assert.NotNull(wrong.Element("Say"));
        Assert.Equal("scheduled", (await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-7"))!.Status);
        var again = await TwilioPostsAsync(call["Url"] + "?again=1", new() { ["CallSid"] = call["Sid"] });
        Assert.NotNull(again.Element("Gather"));
        Assert.NotNull(again.Element("Hangup"));
    }

    [Fact]
    public async Task An_answering_machine_gets_a_short_message_and_no_menu()
    {
        var (_, _, call) = await CalledAsync();

        var twiml = await TwilioPostsAsync(call["Url"], new() { ["CallSid"] = call["Sid"], ["AnsweredBy"] = "machine_end_beep" });

        Assert.Null(twiml.Element("Gather"));
        Assert.NotNull(twiml.Element("Hangup"));
        Assert.Contains("94", Assert.Single(twiml.Elements("Say")).Value, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_answer_is_tried_twice_more_an_hour_apart_then_the_agenda_is_told()
    {
        var (agenda, _, call) = await CalledAsync();

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var current = e2e.Twilio.Calls[^1];
            await CallStatusAsync(current["StatusCallback"], current["Sid"], "no-answer");
            e2e.Api.Clock.Advance(TimeSpan.FromMinutes(59));
            Assert.Equal(0, await e2e.DispatchAsync());
            e2e.Api.Clock.Advance(TimeSpan.FromMinutes(1));
            await e2e.DispatchAsync();
        }

        Assert.Equal(3, e2e.Twilio.Calls.Count);
        var reminder = Assert.Single((await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-7"))!.Messages);
        Assert.Equal("failed", reminder.Status);
        await e2e.DeliverEventsAsync();
        Assert.Equal("message.failed", JsonDocument.Parse(Assert.Single(e2e.AgendaCalls).Body!).RootElement.GetProperty("type").GetString());
        Assert.Equal(call["To"], e2e.Twilio.Calls[2]["To"]);
    }

    [Fact]
    public async Task A_retry_never_falls_in_quiet_hours()
    {
        // 09:00 UTC is 10:00 in Paris: quiet from 10:30, the retry at 11:00 waits until 12:00.
        var (agenda, _, call) = await CalledAsync(quietHours: new { from = "10:30", to = "12:00" });

        await CallStatusAsync(call["StatusCallback"], call["Sid"], "busy");

        var reminder = Assert.Single((await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-7"))!.Messages);
        Assert.Equal("pending", reminder.Status);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 11, 0, 0, TimeSpan.Zero), reminder.DueAt);
    }

    [Fact]
    public async Task A_completed_call_is_delivered()
    {
        var (agenda, _, call) = await CalledAsync();

        await CallStatusAsync(call["StatusCallback"], call["Sid"], "completed");

        Assert.Equal("delivered", Assert.Single((await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-7"))!.Messages).Status);
    }

    [Fact]
    public async Task A_forged_callback_is_refused_and_a_wrong_token_gets_a_polite_goodbye()
    {
        var (agenda, _, call) = await CalledAsync();
        var path = new Uri(call["Url"]).AbsolutePath;
        var form = new Dictionary<string, string> { ["CallSid"] = call["Sid"], ["Digits"] = "2" };

        var forged = await e2e.Api.CreateClient().SendAsync(
            TwilioSigner.SignedPost(EndToEndHarness.PublicBaseUrl, path + "/gather", form, authToken: "guessed"));
        var wrongToken = await TwilioPostsAsync(EndToEndHarness.PublicBaseUrl + path[..^32] + new string('0', 32) + "/gather", form);

        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.NotNull(wrongToken.Element("Hangup"));
        Assert.Null(wrongToken.Element("Gather"));
        Assert.Equal("scheduled", (await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-7"))!.Status);
    }
}
