using System.Net;
using System.Net.Http.Json;
using Dapper;
using RappelRdv.Contracts;
using RappelRdv.TestSupport;

namespace RappelRdv.Api.Tests;

public sealed class SmsStatusCallbackTests : IClassFixture<ApiFactory>, IAsyncLifetime
{
    private readonly ApiFactory api;
    private HttpClient agenda = null!;

    public SmsStatusCallbackTests(ApiFactory api)
    {
        this.api = api;
        api.Settings["Twilio:AuthToken"] = FakeTwilio.AuthToken;
    }

    public async Task InitializeAsync()
    {
        await api.Database.ResetAsync();
        api.Clock.AdjustTime(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        var keys = await api.CreateTenantAsync("status", new
        {
            slug = "status", name = "S", quietHours = (object?)null, notifyOnCreate = false,
            reminders = new[] { new { channel = "sms", before = "P1D" } },
            webhook = new { url = "http://127.0.0.1:9/events" },
        });
        agenda = api.WithKey(keys.ApiKey);
        await agenda.PutAsJsonAsync("/v1/appointments/rdv-1", new { startsAt = "2026-12-03T09:30:00+01:00", citizen = new { phone = "0612345678" } });
        // What the Worker does when Twilio accepts the reminder.
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("update messages set status = 'sent', provider_id = 'SM123', sent_at = now() where kind = 'reminder'");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private Task<HttpResponseMessage> Callback(Dictionary<string, string> form) =>
        api.CreateClient().SendAsync(TwilioSigner.SignedPost("http://rappel.test", "/twilio/sms/status", form));

    [Fact]
    public async Task Delivered_is_reflected_in_GET()
    {
        var response = await Callback(new() { ["MessageSid"] = "SM123", ["MessageStatus"] = "delivered", ["AccountSid"] = FakeTwilio.AccountSid });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var view = await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-1");
        Assert.Equal("delivered", Assert.Single(view!.Messages, m => m.Kind == "reminder").Status);
    }

    [Fact]
    public async Task The_first_callback_of_a_message_whose_answer_was_lost_records_it_as_sent()
    {
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        // What a Worker leaves when Twilio's answer to the send never came; the callback URL names the message.
        var messageId = await connection.ExecuteScalarAsync<Guid>(
            """
            update messages set status = 'sending', provider_id = null, claim_token = gen_random_uuid(), claimed_at = now()
            where kind = 'reminder' returning id
            """);
        var path = $"/twilio/sms/status?m={messageId:N}";

        var sent = await api.CreateClient().SendAsync(TwilioSigner.SignedPost("http://rappel.test", path,
            new() { ["MessageSid"] = "SM777", ["MessageStatus"] = "sent", ["AccountSid"] = FakeTwilio.AccountSid }));

        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        Assert.Equal(("sent", "SM777"), await connection.QuerySingleAsync<(string, string)>(
            "select status, provider_id from messages where id = @messageId", new { messageId }));
    }

    [Fact]
    public async Task Undelivered_fails_the_message_and_records_message_failed()
    {
        await Callback(new() { ["MessageSid"] = "SM123", ["MessageStatus"] = "undelivered", ["ErrorCode"] = "30008" });

        var view = await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-1");
        var reminder = Assert.Single(view!.Messages, m => m.Kind == "reminder");
        Assert.Equal("failed", reminder.Status);
        Assert.StartsWith("30008", reminder.Error, StringComparison.Ordinal);
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        Assert.Equal("message.failed", await connection.ExecuteScalarAsync<string>("select type from events"));
    }

    [Theory]
    [InlineData("30001")] // Twilio's queue for the sender overflowed
    [InlineData("30003")] // the phone was off or out of reach
    public async Task A_passing_failure_is_tried_again_30_minutes_later_without_telling_the_agenda(string code)
    {
        await Callback(new() { ["MessageSid"] = "SM123", ["MessageStatus"] = "undelivered", ["ErrorCode"] = code });

        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        var reminders = (await connection.QueryAsync<(string Status, DateTime DueAt, string? Error)>(
            "select status, due_at, error from messages where kind = 'reminder' order by created_at, status")).ToList();
        Assert.Equal(2, reminders.Count);
        var failed = Assert.Single(reminders, r => r.Status == "failed");
        Assert.StartsWith(code, failed.Error, StringComparison.Ordinal);
        var retry = Assert.Single(reminders, r => r.Status == "pending");
        Assert.Equal(api.Clock.GetUtcNow().UtcDateTime.AddMinutes(30), retry.DueAt, TimeSpan.FromSeconds(1));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from events where type = 'message.failed'"));
    }

    [Fact]
    public async Task A_landline_30006_turns_the_citizen_to_voice()
    {
        await Callback(new() { ["MessageSid"] = "SM123", ["MessageStatus"] = "undelivered", ["ErrorCode"] = "30006" });

        var view = await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-1");
        Assert.Equal("voice", view!.Citizen.Channel);
        Assert.Contains(view.Messages, m => m.Kind == "reminder" && m.Channel == "voice" && m.Status == "pending");
    }

    [Fact]
    public async Task A_forged_or_unsigned_callback_is_403_and_changes_nothing()
    {
        var form = new Dictionary<string, string> { ["MessageSid"] = "SM123", ["MessageStatus"] = "delivered" };
        var forged = TwilioSigner.SignedPost("http://rappel.test", "/twilio/sms/status", form, authToken: "not-the-token");
        var unsigned = new HttpRequestMessage(HttpMethod.Post, "/twilio/sms/status") { Content = new FormUrlEncodedContent(form) };
        var otherUrl = TwilioSigner.SignedPost("http://evil.test", "/twilio/sms/status", form);

        Assert.Equal(HttpStatusCode.Forbidden, (await api.CreateClient().SendAsync(forged)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await api.CreateClient().SendAsync(unsigned)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await api.CreateClient().SendAsync(otherUrl)).StatusCode);
        var view = await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-1");
        Assert.Equal("sent", Assert.Single(view!.Messages, m => m.Kind == "reminder").Status);
    }
}
