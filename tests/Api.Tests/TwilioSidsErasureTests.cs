using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RappelRdv.Reminders.Twilio;
using RappelRdv.TestSupport;

namespace RappelRdv.Api.Tests;

/// <summary>
/// docs/PRIVACY.md: every message and call we caused at Twilio is deleted there with the appointment, not
/// only the SIDs the messages hold at the end: the earlier tries of a call, a call settled from
/// <c>sending</c> by its callback, the SMS our TwiML answers make; an SMS that no appointment takes is
/// deleted soon. The Worker's TwilioErasure then deletes each row of <c>twilio_deletions</c> (Worker.Tests).
/// </summary>
public sealed partial class TwilioSidsErasureTests : IClassFixture<ApiFactory>, IAsyncLifetime
{
    private const string Base = "http://rappel.test";
    private readonly ApiFactory api;
    private HttpClient agenda = null!;

    public TwilioSidsErasureTests(ApiFactory api)
    {
        this.api = api;
        api.Settings["Twilio:AuthToken"] = FakeTwilio.AuthToken;
    }

    public async Task InitializeAsync()
    {
        await api.Database.ResetAsync();
        api.Clock.AdjustTime(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        var keys = await api.CreateTenantAsync("sids", new
        {
            slug = "sids", name = "S", quietHours = (object?)null, notifyOnCreate = false,
            reminders = new[] { new { channel = "voice", before = "P1D" }, new { channel = "sms", before = "PT2H" } },
        });
        agenda = api.WithKey(keys.ApiKey);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_call_tried_again_and_a_call_settled_from_sending_by_its_callback_are_deleted_with_the_appointment()
    {
        await agenda.PutAsJsonAsync("/v1/appointments/rdv-call", new { startsAt = "2026-12-05T09:30:00+01:00", citizen = new { phone = "04 94 12 34 56" } });
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        var call = await connection.ExecuteScalarAsync<Guid>(
            """
            update messages set status = 'sent', provider_id = 'CAfirst', attempts = 1
            where id = (select id from messages where kind = 'reminder' and channel = 'voice' order by due_at limit 1) returning id
            """);

        // Nobody answered: tried again later, under a new SID; the first call stays at Twilio until erased.
        Assert.Equal(HttpStatusCode.OK, (await CallStatusAsync(call, "CAfirst", "no-answer")).StatusCode);
        Assert.Equal(("pending", (string?)null), await connection.QuerySingleAsync<(string, string?)>("select status, provider_id from messages where id = @call", new { call }));

        // The second try: Twilio placed it, but the Worker died before storing its SID; the callback settles it.
        await connection.ExecuteAsync("update messages set status = 'sending', attempts = 2, claim_token = gen_random_uuid(), claimed_at = now() where id = @call", new { call });
        Assert.Equal(HttpStatusCode.OK, (await CallStatusAsync(call, "CAsecond", "completed")).StatusCode);
        Assert.Equal(("delivered", (string?)null), await connection.QuerySingleAsync<(string, string?)>("select status, provider_id from messages where id = @call", new { call }));
        Assert.Empty(await DeletionsAsync(connection));   // nothing goes before the appointment is erased

        await EraseAsync("04 94 12 34 56");

        Assert.Equal(["CAfirst", "CAsecond"], await DeletionsAsync(connection));
    }

    [Fact]
    public async Task The_answer_TwiML_sends_to_a_citizen_and_their_SMS_are_deleted_with_the_appointment()
    {
        await agenda.PutAsJsonAsync("/v1/appointments/rdv-sms", new { startsAt = "2026-12-05T09:30:00+01:00", citizen = new { phone = "06 12 34 56 78" } });
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("update messages set status = 'sent', provider_id = 'SMreminder' where kind = 'reminder' and channel = 'sms'");
        var appointmentId = await connection.ExecuteScalarAsync<long>("select id from appointments where external_id = 'rdv-sms'");

        var twiml = await InboundAsync("+33612345678", "OUI", "SMcitizen");
        var action = Action(twiml);
        Assert.Equal($"{Base}{SmsAnswerPath}?a={appointmentId}", action);   // Twilio tells us the answer's SID there
        Assert.Equal(HttpStatusCode.OK, (await SignedAsync(action, new() { ["MessageSid"] = "SManswer", ["MessageStatus"] = "sent" })).StatusCode);
        Assert.Empty(await DeletionsAsync(connection));

        await EraseAsync("06 12 34 56 78");

        Assert.Equal(["SManswer", "SMcitizen", "SMreminder"], await DeletionsAsync(connection));
    }

    [Fact]
    public async Task An_SMS_no_appointment_takes_and_the_answer_to_it_are_deleted_soon_without_an_erasure()
    {
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();

        var unknown = await InboundAsync("+33699999999", "OUI", "SMunknown");
        var notFrench = await InboundAsync("+12025550143", "hello", "SMforeign");
        var stop = await InboundAsync("+33688888888", "STOP", "SMstop");   // a STOP is answered, even from a number we never wrote to
        Assert.DoesNotContain("<Message", unknown, StringComparison.Ordinal);
        Assert.DoesNotContain("<Message", notFrench, StringComparison.Ordinal);
        Assert.Equal($"{Base}{SmsAnswerPath}", Action(stop));
        await SignedAsync(Action(stop), new() { ["MessageSid"] = "SMstopanswer", ["MessageStatus"] = "sent" });

        var due = (await connection.QueryAsync<(string Sid, DateTime NextAttemptAt)>("select sid, next_attempt_at from twilio_deletions order by sid")).ToList();
        Assert.Equal(["SMforeign", "SMstop", "SMstopanswer", "SMunknown"], due.Select(d => d.Sid));
        Assert.All(due, d => Assert.Equal(api.Clock.GetUtcNow() + TwilioSids.UnattachedDelay, new DateTimeOffset(d.NextAttemptAt, TimeSpan.Zero)));
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("select count(*) from twilio_sids"));
    }

    private const string SmsAnswerPath = "/twilio/sms/answer-status";

    private Task<HttpResponseMessage> CallStatusAsync(Guid messageId, string callSid, string status)
    {
        var url = api.Services.GetRequiredService<CallbackUrls>().VoiceStatus(messageId);
        return SignedAsync(url.ToString(), new() { ["CallSid"] = callSid, ["CallStatus"] = status, ["CallDuration"] = "30" });
    }

    private async Task<string> InboundAsync(string from, string body, string sid)
    {
        var response = await SignedAsync($"{Base}/twilio/sms/inbound", new() { ["From"] = from, ["To"] = "+33700000000", ["Body"] = body, ["MessageSid"] = sid });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    private Task<HttpResponseMessage> SignedAsync(string absoluteUrl, Dictionary<string, string> form) =>
        api.CreateClient().SendAsync(TwilioSigner.SignedPost(Base, absoluteUrl[Base.Length..], form));

    private async Task EraseAsync(string phone) =>
        (await api.Admin().PostAsJsonAsync("/v1/admin/tenants/sids/erasures", new { phone })).EnsureSuccessStatusCode();

    private static async Task<List<string>> DeletionsAsync(Npgsql.NpgsqlConnection connection) =>
        (await connection.QueryAsync<string>("select sid from twilio_deletions order by sid")).ToList();

    private static string Action(string twiml) => WebUtility.HtmlDecode(ActionAttribute().Match(twiml).Groups[1].Value);

    [GeneratedRegex("<Message[^>]* action=\"([^\"]+)\"")]
    private static partial Regex ActionAttribute();
}
