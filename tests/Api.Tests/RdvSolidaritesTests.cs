using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Appointments;

namespace RappelRdv.Api.Tests;

public sealed class RdvSolidaritesTests(ApiFactory api) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    private const string Secret = "rdvs-var-shared-secret";
    private const string Url = "/v1/webhooks/rdv-solidarites/var";
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);

    private HttpClient agenda = null!;

    public async Task InitializeAsync()
    {
        await api.Database.ResetAsync();
        api.Clock.AdjustTime(Now);
        var keys = await api.CreateTenantAsync("var", new
        {
            slug = "var", name = "Département du Var", quietHours = (object?)null, rdvSolidarites = new { secret = Secret },
        });
        agenda = api.WithKey(keys.ApiKey);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_one_to_one_RDV_becomes_an_appointment_with_its_messages_planned()
    {
        var hook = RdvsWebhook.OneToOne();

        var response = await SendAsync(hook);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<RdvSolidaritesAnswer>();
        Assert.Equal(new RdvSolidaritesResult("rdvs-4201-10", "created"), Assert.Single(answer!.Appointments));
        var view = await GetAsync("rdvs-4201-10");
        Assert.Equal(new DateTimeOffset(2026, 12, 3, 8, 30, 0, TimeSpan.Zero), view.StartsAt);
        Assert.Equal(30, view.DurationMinutes);
        Assert.Equal("scheduled", view.Status);
        Assert.Equal(new CitizenView("+33612345678", "sms", false), view.Citizen);
        Assert.Equal("RSA - Orientation", view.Service);
        Assert.Equal(new LocationView("UTS Toulon Ouest", "12 rue Picot, 83000 Toulon", "04 94 00 00 00"), view.Location);
        Assert.Equal("in_person", view.Mode);
        Assert.Contains(view.Messages, m => m.Kind == "confirmation" && m.Status == "pending");
        Assert.Equal(2, view.Messages.Count(m => m.Kind == "reminder" && m.Status == "pending"));
        var row = await RowAsync("rdvs-4201-10");
        Assert.Equal(("Awa", "Diallo", "rdv-solidarites"), (row.FirstName, row.LastName, row.Source));
        Assert.Equal(new DateTime(2026, 11, 27, 9, 0, 0, DateTimeKind.Utc), row.SourceUpdatedAt);
    }

    [Fact]
    public async Task A_collective_RDV_is_one_appointment_per_participant_and_a_removed_participant_is_cancelled()
    {
        var hook = RdvsWebhook.Collective(RdvsPerson.Awa, RdvsPerson.Karim, RdvsPerson.Lucie);
        var created = await AnswerAsync(hook);
        var messagesBefore = await MessageCountAsync();

        var updated = await AnswerAsync(hook with
        {
            Event = "updated",
            Timestamp = "2026-11-27T11:00:00.000+01:00",
            Participants = [new(RdvsPerson.Awa), new(RdvsPerson.Lucie)],
        });

        Assert.All(created.Appointments, a => Assert.Equal("created", a.Result));
        Assert.Equal(["rdvs-4300-10", "rdvs-4300-11", "rdvs-4300-12"], created.Appointments.Select(a => a.ExternalId));
        Assert.Equal("unchanged", updated.Appointments.Single(a => a.ExternalId == "rdvs-4300-10").Result);
        Assert.Equal("unchanged", updated.Appointments.Single(a => a.ExternalId == "rdvs-4300-12").Result);
        Assert.Equal("cancelled", updated.Appointments.Single(a => a.ExternalId == "rdvs-4300-11").Result);
        Assert.Equal("cancelled_by_service", (await GetAsync("rdvs-4300-11")).Status);
        Assert.DoesNotContain((await GetAsync("rdvs-4300-11")).Messages, m => m.Status == "pending");
        Assert.Equal("scheduled", (await GetAsync("rdvs-4300-10")).Status);
        Assert.Equal("scheduled", (await GetAsync("rdvs-4300-12")).Status);
        // The removed participant's permissions left with them: no cancellation message is made up.
        Assert.Equal(messagesBefore, await MessageCountAsync());
    }

    [Fact]
    public async Task A_phone_RDV_without_a_lieu_has_mode_phone_and_no_location()
    {
        var hook = RdvsWebhook.PhoneCall();

        await AnswerAsync(hook);

        var view = await GetAsync(hook.ExternalId(RdvsPerson.Awa));
        Assert.Equal("phone", view.Mode);
        Assert.Null(view.Location);
        Assert.Equal("Entretien téléphonique RSA", view.Service);
    }

    [Fact]
    public async Task A_minor_without_a_phone_is_reached_through_the_responsible_user()
    {
        var hook = RdvsWebhook.OneToOne(RdvsPerson.Noah);

        await AnswerAsync(hook);

        var view = await GetAsync(hook.ExternalId(RdvsPerson.Noah));
        Assert.Equal(new CitizenView("+33612345678", "sms", false), view.Citizen);
        Assert.NotEmpty(view.Messages);
        var row = await RowAsync(hook.ExternalId(RdvsPerson.Noah));
        Assert.Equal(("Noah", "Diallo"), (row.FirstName, row.LastName));
    }

    [Fact]
    public async Task A_citizen_without_a_usable_phone_is_kept_for_the_statistics_with_channel_none()
    {
        var hook = RdvsWebhook.OneToOne(RdvsPerson.Nobody);

        var answer = await AnswerAsync(hook);

        Assert.Equal("created", Assert.Single(answer.Appointments).Result);
        var view = await GetAsync(hook.ExternalId(RdvsPerson.Nobody));
        Assert.Equal(new CitizenView(null, "none", false), view.Citizen);
        Assert.Empty(view.Messages);
    }

    [Fact]
    public async Task A_landline_is_called()
    {
        var hook = RdvsWebhook.OneToOne(RdvsPerson.Landline);

        await AnswerAsync(hook);

        var view = await GetAsync(hook.ExternalId(RdvsPerson.Landline));
        Assert.Equal(new CitizenView("+33494123456", "voice", false), view.Citizen);
        Assert.All(view.Messages, m => Assert.Equal("voice", m.Channel));
    }

    [Fact]
    public async Task No_reminder_when_the_agent_unticked_it_and_no_message_at_all_when_the_citizen_refuses_sms()
    {
        var noReminder = RdvsWebhook.OneToOne() with { Participants = [new(RdvsPerson.Awa, SendReminder: false)] };
        var refusesSms = RdvsWebhook.OneToOne(RdvsPerson.Karim with { NotifyBySms = false }) with { RdvId = 4202 };

        await AnswerAsync(noReminder);
        await AnswerAsync(refusesSms);

        var reminded = await GetAsync(noReminder.ExternalId(RdvsPerson.Awa));
        Assert.DoesNotContain(reminded.Messages, m => m.Kind == "reminder");
        Assert.Contains(reminded.Messages, m => m.Kind == "confirmation");
        Assert.Empty((await GetAsync(refusesSms.ExternalId(RdvsPerson.Karim))).Messages);
    }

    [Fact]
    public async Task Unticking_the_reminder_later_stops_the_pending_reminders()
    {
        var hook = RdvsWebhook.OneToOne();
        await AnswerAsync(hook);

        var answer = await AnswerAsync(hook with
        {
            Event = "updated", Timestamp = "2026-11-27T11:00:00.000+01:00", Participants = [new(RdvsPerson.Awa, SendReminder: false)],
        });

        Assert.Equal("updated", Assert.Single(answer.Appointments).Result);
        Assert.DoesNotContain((await GetAsync("rdvs-4201-10")).Messages, m => m.Kind == "reminder" && m.Status == "pending");
    }

    [Fact]
    public async Task Noshow_is_recorded_once_the_start_has_passed_and_ignored_before()
    {
        var hook = RdvsWebhook.OneToOne();
        await AnswerAsync(hook);
        var tooEarly = hook with { Event = "updated", Timestamp = "2026-11-27T11:00:00.000+01:00", Participants = [new(RdvsPerson.Awa, "noshow")] };

        var early = await AnswerAsync(tooEarly);
        var outcomeBeforeStart = (await GetAsync("rdvs-4201-10")).Outcome;
        api.Clock.AdjustTime(new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.Zero));
        var late = await AnswerAsync(tooEarly with { Timestamp = "2026-12-03T11:00:00.000+01:00" });

        Assert.Equal("unchanged", Assert.Single(early.Appointments).Result);
        Assert.Null(outcomeBeforeStart);
        Assert.Equal("updated", Assert.Single(late.Appointments).Result);
        var view = await GetAsync("rdvs-4201-10");
        Assert.Equal("no_show", view.Outcome);
        Assert.Equal("scheduled", view.Status);
    }

    [Fact]
    public async Task Seen_on_a_past_RDV_heard_of_for_the_first_time_is_created_honoured()
    {
        var hook = RdvsWebhook.OneToOne() with { StartsAt = "2026-11-20T14:00:00.000+01:00", Status = "seen", Participants = [new(RdvsPerson.Awa, null)] };

        var answer = await AnswerAsync(hook);

        Assert.Equal("created", Assert.Single(answer.Appointments).Result);
        var view = await GetAsync("rdvs-4201-10");
        Assert.Equal("honoured", view.Outcome);
        Assert.Empty(view.Messages);
    }

    [Fact]
    public async Task Excused_is_cancelled_by_the_citizen_and_stops_what_is_pending()
    {
        var hook = RdvsWebhook.OneToOne();
        await AnswerAsync(hook);

        var answer = await AnswerAsync(hook with
        {
            Event = "updated", Timestamp = "2026-11-27T11:00:00.000+01:00", Participants = [new(RdvsPerson.Awa, "excused")],
        });

        Assert.Equal("cancelled", Assert.Single(answer.Appointments).Result);
        var view = await GetAsync("rdvs-4201-10");
        Assert.Equal("cancelled_by_citizen", view.Status);
        Assert.DoesNotContain(view.Messages, m => m.Status == "pending");
        Assert.DoesNotContain(view.Messages, m => m.Kind == "cancellation");
    }

    [Fact]
    public async Task Revoked_is_cancelled_by_the_service_and_the_citizen_is_told()
    {
        var hook = RdvsWebhook.OneToOne();
        await AnswerAsync(hook);

        var answer = await AnswerAsync(hook with { Event = "updated", Timestamp = "2026-11-27T11:00:00.000+01:00", Status = "revoked", Participants = [new(RdvsPerson.Awa, "revoked")] });

        Assert.Equal("cancelled", Assert.Single(answer.Appointments).Result);
        var view = await GetAsync("rdvs-4201-10");
        Assert.Equal("cancelled_by_service", view.Status);
        Assert.DoesNotContain(view.Messages, m => m.Kind != "cancellation" && m.Status == "pending");
        Assert.Single(view.Messages, m => m.Kind == "cancellation" && m.Status == "pending");
    }

    [Fact]
    public async Task Destroyed_cancels_by_the_service()
    {
        var hook = RdvsWebhook.OneToOne();
        await AnswerAsync(hook);

        var answer = await AnswerAsync(hook with { Event = "destroyed", Timestamp = "2026-11-27T11:00:00.000+01:00" });

        Assert.Equal("cancelled", Assert.Single(answer.Appointments).Result);
        var view = await GetAsync("rdvs-4201-10");
        Assert.Equal("cancelled_by_service", view.Status);
        Assert.DoesNotContain(view.Messages, m => m.Kind != "cancellation" && m.Status == "pending");
        Assert.Equal("+33612345678", (await RowAsync("rdvs-4201-10")).Phone);
    }

    [Fact]
    public async Task Destroyed_for_rgpd_erases_the_personal_data_at_once_and_keeps_the_statistics()
    {
        var hook = RdvsWebhook.OneToOne();
        await AnswerAsync(hook);
        await using (var connection = await api.Database.DataSource.OpenConnectionAsync())
        {
            // What the dispatcher records of a message it sent.
            await connection.ExecuteAsync("update messages set body = 'Rappel : RDV RSA le 3/12 a 9h30', status = 'sent' where kind = 'confirmation'");
        }

        var answer = await AnswerAsync(hook with { Event = "destroyed", Reason = "rgpd", Timestamp = "2026-11-27T11:00:00.000+01:00" });

        Assert.Equal("erased", Assert.Single(answer.Appointments).Result);
        var row = await RowAsync("rdvs-4201-10");
        Assert.Null(row.Phone);
        Assert.Null(row.FirstName);
        Assert.Null(row.LastName);
        Assert.NotNull(row.ErasedAt);
        Assert.Equal(("cancelled_by_service", "sms", "RSA - Orientation", "UTS Toulon Ouest", "in_person"),
            (row.Status, row.Channel, row.Service, row.LocationName, row.Mode));
        Assert.Equal(new DateTime(2026, 12, 3, 8, 30, 0, DateTimeKind.Utc), row.StartsAt);
        await using var check = await api.Database.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await check.ExecuteScalarAsync<int>("select count(*) from messages where body is not null"));
        Assert.Equal(0, await check.ExecuteScalarAsync<int>("select count(*) from messages where status = 'pending'"));
    }

    [Fact]
    public async Task Erasing_one_appointment_leaves_the_others_and_erasing_again_changes_nothing()
    {
        await AnswerAsync(RdvsWebhook.Collective(RdvsPerson.Awa, RdvsPerson.Karim));
        var store = api.Services.GetRequiredService<AppointmentStore>();
        var awa = await RowAsync("rdvs-4300-10");

        Assert.True(await store.ErasePersonalDataAsync(awa.Id, CancellationToken.None));
        var once = await RowJsonAsync("rdvs-4300-10");
        api.Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.True(await store.ErasePersonalDataAsync(awa.Id, CancellationToken.None));

        Assert.Equal(once, await RowJsonAsync("rdvs-4300-10"));
        Assert.Null((await RowAsync("rdvs-4300-10")).Phone);
        Assert.Equal("+33761234567", (await RowAsync("rdvs-4300-11")).Phone);
        Assert.False(await store.ErasePersonalDataAsync(-1, CancellationToken.None));
    }

    [Fact]
    public async Task Another_model_is_answered_200_and_ignored()
    {
        var response = await SendAsync(RdvsWebhook.Absence());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<RdvSolidaritesAnswer>();
        Assert.Equal(("Absence", "created"), (answer!.Model, answer.Event));
        Assert.Empty(answer.Appointments);
        Assert.Equal(0, await AppointmentCountAsync());
    }

    [Fact]
    public async Task A_wrong_signature_is_401_and_changes_nothing()
    {
        var body = RdvsWebhook.OneToOne().ToBytes();

        var wrongSecret = await SendAsync(body, Sign(body, "not-the-secret"));
        var missing = await SendAsync(body, signature: "");
        var notHex = await SendAsync(body, signature: new string('z', 64));
        var unknownTenant = await SendAsync(body, Sign(body, Secret), "/v1/webhooks/rdv-solidarites/nowhere");

        foreach (var response in new[] { wrongSecret, missing, notHex, unknownTenant })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        // The unknown tenant and the wrong signature cannot be told apart.
        Assert.Equal(await wrongSecret.Content.ReadFromJsonAsync<Problem>(), await unknownTenant.Content.ReadFromJsonAsync<Problem>());
        Assert.Equal(0, await AppointmentCountAsync());
    }

    [Fact]
    public async Task A_tenant_without_a_secret_accepts_no_webhook()
    {
        await api.CreateTenantAsync("sans-secret");
        var body = RdvsWebhook.OneToOne().ToBytes();

        var response = await SendAsync(body, Sign(body, ""), "/v1/webhooks/rdv-solidarites/sans-secret");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, await AppointmentCountAsync());
    }

    [Fact]
    public async Task The_signature_may_be_in_upper_case_hex()
    {
        var body = RdvsWebhook.OneToOne().ToBytes();

        var response = await SendAsync(body, Sign(body, Secret).ToUpperInvariant());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_body_altered_by_one_byte_after_signing_is_401()
    {
        var body = RdvsWebhook.OneToOne().ToBytes();
        var signature = Sign(body, Secret);
        var altered = (byte[])body.Clone();
        var at = Encoding.UTF8.GetString(altered).IndexOf("09:30:00", StringComparison.Ordinal);
        altered[at + 1] = (byte)'8';

        var response = await SendAsync(altered, signature);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, await AppointmentCountAsync());
    }

    [Fact]
    public async Task An_update_older_than_the_last_one_applied_changes_nothing()
    {
        var hook = RdvsWebhook.OneToOne();
        await AnswerAsync(hook);
        var moved = hook with { Event = "updated", Timestamp = "2026-11-27T12:00:00.000+01:00", StartsAt = "2026-12-04T14:00:00.000+01:00" };
        var olderMove = hook with { Event = "updated", Timestamp = "2026-11-27T11:00:00.000+01:00", StartsAt = "2026-12-05T10:00:00.000+01:00" };
        await AnswerAsync(moved);
        var before = await RowJsonAsync("rdvs-4201-10");
        var messagesBefore = await MessageCountAsync();

        var response = await SendAsync(olderMove);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = Assert.Single((await response.Content.ReadFromJsonAsync<RdvSolidaritesAnswer>())!.Appointments);
        Assert.Equal("ignored", result.Result);
        Assert.Equal(before, await RowJsonAsync("rdvs-4201-10"));
        Assert.Equal(messagesBefore, await MessageCountAsync());
        Assert.Equal(new DateTimeOffset(2026, 12, 4, 13, 0, 0, TimeSpan.Zero), (await GetAsync("rdvs-4201-10")).StartsAt);
    }

    [Fact]
    public async Task A_late_update_does_not_cancel_a_participant_added_since()
    {
        var first = RdvsWebhook.Collective(RdvsPerson.Awa);
        await AnswerAsync(first);
        await AnswerAsync(first with { Event = "updated", Timestamp = "2026-11-27T12:00:00.000+01:00", Participants = [new(RdvsPerson.Awa), new(RdvsPerson.Karim)] });

        var late = await AnswerAsync(first with { Event = "updated", Timestamp = "2026-11-27T11:00:00.000+01:00" });

        Assert.Equal("ignored", late.Appointments.Single(a => a.ExternalId == "rdvs-4300-11").Result);
        Assert.Equal("scheduled", (await GetAsync("rdvs-4300-11")).Status);
    }

    [Fact]
    public async Task A_replay_changes_nothing_and_sends_nothing()
    {
        var body = RdvsWebhook.OneToOne().ToBytes();
        await SendAsync(body, Sign(body, Secret));
        var before = await RowJsonAsync("rdvs-4201-10");
        var messagesBefore = await MessageCountAsync();
        api.Clock.Advance(TimeSpan.FromMinutes(5));

        var replay = await SendAsync(body, Sign(body, Secret));

        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal("unchanged", Assert.Single((await replay.Content.ReadFromJsonAsync<RdvSolidaritesAnswer>())!.Appointments).Result);
        Assert.Equal(before, await RowJsonAsync("rdvs-4201-10"));
        Assert.Equal(messagesBefore, await MessageCountAsync());
    }

    [Fact]
    public async Task A_replayed_cancellation_or_outcome_changes_nothing()
    {
        var hook = RdvsWebhook.OneToOne() with { StartsAt = "2026-11-26T09:30:00.000+01:00" };
        await AnswerAsync(hook);
        var noShow = hook with { Event = "updated", Timestamp = "2026-11-27T11:00:00.000+01:00", Participants = [new(RdvsPerson.Awa, "noshow")] };
        await AnswerAsync(noShow);
        var before = await RowJsonAsync("rdvs-4201-10");

        var again = await AnswerAsync(noShow);

        Assert.Equal("unchanged", Assert.Single(again.Appointments).Result);
        Assert.Equal(before, await RowJsonAsync("rdvs-4201-10"));
    }

    [Fact]
    public async Task A_body_of_1_MiB_is_413_without_being_read()
    {
        var json = RdvsWebhook.OneToOne().ToJson();
        json["data"]!["context"] = new string('x', 1024 * 1024);
        var body = Encoding.UTF8.GetBytes(json.ToJsonString());

        var response = await SendAsync(body, Sign(body, Secret));
        // Without a Content-Length, the reading stops at the limit.
        using var streamed = new HttpRequestMessage(HttpMethod.Post, Url) { Content = new UnknownLengthContent(body) };
        streamed.Headers.TransferEncodingChunked = true;
        streamed.Headers.Add("X-Lapin-Signature", Sign(body, Secret));
        var streamedResponse = await api.CreateClient().SendAsync(streamed);

        foreach (var tooLarge in new[] { response, streamedResponse })
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
            Assert.Equal("application/problem+json", tooLarge.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(0, await AppointmentCountAsync());
    }

    [Fact]
    public async Task An_RDV_sent_without_participations_is_read_from_its_users()
    {
        var json = RdvsWebhook.Collective(RdvsPerson.Awa, RdvsPerson.Karim).ToJson();
        json["data"]!.AsObject().Remove("participations");
        var body = Encoding.UTF8.GetBytes(json.ToJsonString());

        var response = await SendAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<RdvSolidaritesAnswer>();
        Assert.Equal(["rdvs-4300-10", "rdvs-4300-11"], answer!.Appointments.Select(a => a.ExternalId));
        Assert.Contains((await GetAsync("rdvs-4300-11")).Messages, m => m.Kind == "reminder");
    }

    [Fact]
    public async Task Two_webhooks_of_one_RDV_at_once_leave_the_newer_one_applied()
    {
        var hooks = Enumerable.Range(0, 5).Select(i => RdvsWebhook.OneToOne() with { RdvId = 5000 + i }).ToList();
        await Task.WhenAll(hooks.Select(AnswerAsync));

        await Task.WhenAll(hooks.SelectMany(hook => new[]
        {
            AnswerAsync(hook with { Event = "updated", Timestamp = "2026-11-27T11:00:00.000+01:00", StartsAt = "2026-12-05T10:00:00.000+01:00" }),
            AnswerAsync(hook with { Event = "updated", Timestamp = "2026-11-27T12:00:00.000+01:00", StartsAt = "2026-12-04T14:00:00.000+01:00" }),
        }));

        foreach (var hook in hooks)
        {
            var view = await GetAsync(hook.ExternalId(RdvsPerson.Awa));
            Assert.Equal(new DateTimeOffset(2026, 12, 4, 13, 0, 0, TimeSpan.Zero), view.StartsAt);
            Assert.All(view.Messages.Where(m => m.Kind == "reminder" && m.Status == "pending"),
                m => Assert.True(m.DueAt < view.StartsAt && m.DueAt > new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero)));
        }
    }

    [Theory]
    [InlineData("""{"data":{"id":1},"meta":{"model":"Rdv"}}""", "meta")]
    [InlineData("""{"data":{"id":1,"starts_at":"2026-12-03T09:30:00+01:00","participations":"oops"},"meta":{"model":"Rdv","event":"created","timestamp":"2026-11-27T10:00:00+01:00"}}""", "data.participations")]
    [InlineData("""{"data":{"id":1,"starts_at":"2026-12-03T09:30:00","participations":[]},"meta":{"model":"Rdv","event":"created","timestamp":"2026-11-27T10:00:00+01:00"}}""", "data.starts_at")]
    [InlineData("""{"data":{"id":1,"starts_at":"2026-12-03T09:30:00+01:00","participations":[{"id":2,"user":null}]},"meta":{"model":"Rdv","event":"created","timestamp":"2026-11-27T10:00:00+01:00"}}""", "data.participations[0].user.id")]
    [InlineData("""{"data":{"id":1,"starts_at":"2026-12-03T09:30:00+01:00","participations":[]},"meta":{"model":"Rdv","event":"created"}}""", "meta.timestamp")]
    [InlineData("""{"data":{"id":1,"starts_at":"2026-12-03T09:30:00+01:00","users":[{"first_name":"Awa"}]},"meta":{"model":"Rdv","event":"created","timestamp":"2026-11-27T10:00:00+01:00"}}""", "data.users[0].id")]
    [InlineData("""{"data":{"id":"un","starts_at":"2026-12-03T09:30:00+01:00"},"meta":{"model":"Rdv","event":"created","timestamp":"2026-11-27T10:00:00+01:00"}}""", "data.id")]
    [InlineData("""[1, 2""", "body")]
    public async Task A_signed_body_of_the_wrong_shape_is_400_naming_the_field(string json, string field)
    {
        var body = Encoding.UTF8.GetBytes(json);

        var response = await SendAsync(body, Sign(body, Secret));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<ValidationProblem>();
        Assert.Contains(field, problem!.Errors.Keys);
        Assert.Equal(0, await AppointmentCountAsync());
    }

    /// <summary>A body of unknown length, as a chunked request has.</summary>
    private sealed class UnknownLengthContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    private sealed record Problem(int Status, string Title, string Detail);

    private sealed record ValidationProblem(Dictionary<string, string[]> Errors);

    private sealed record AppointmentRow(
        long Id, DateTime StartsAt, string Status, string? Outcome, string? Phone, string? FirstName, string? LastName,
        string Channel, string? Service, string? LocationName, string Mode, string Source, DateTime? SourceUpdatedAt, DateTime? ErasedAt);

    private static string Sign(byte[] body, string secret) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    private Task<HttpResponseMessage> SendAsync(RdvsWebhook hook)
    {
        var body = hook.ToBytes();
        return SendAsync(body, Sign(body, Secret));
    }

    private Task<HttpResponseMessage> SendAsync(byte[] body) => SendAsync(body, Sign(body, Secret));

    private async Task<HttpResponseMessage> SendAsync(byte[] body, string signature, string url = Url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json; charset=utf-8");
        if (signature.Length > 0)
        {
            request.Headers.Add("X-Lapin-Signature", signature);
        }

        return await api.CreateClient().SendAsync(request);
    }

    private async Task<RdvSolidaritesAnswer> AnswerAsync(RdvsWebhook hook)
    {
        var response = await SendAsync(hook);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<RdvSolidaritesAnswer>())!;
    }

    private async Task<AppointmentView> GetAsync(string externalId) =>
        (await agenda.GetFromJsonAsync<AppointmentView>($"/v1/appointments/{externalId}"))!;

    private async Task<AppointmentRow> RowAsync(string externalId)
    {
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        return await connection.QuerySingleAsync<AppointmentRow>(
            """
            select id, starts_at, status, outcome, phone, first_name, last_name, channel, service, location_name, mode, source,
                   source_updated_at, erased_at
            from appointments where external_id = @externalId
            """,
            new { externalId });
    }

    private async Task<string> RowJsonAsync(string externalId)
    {
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        return await connection.QuerySingleAsync<string>(
            "select row_to_json(a)::text from appointments a where external_id = @externalId", new { externalId });
    }

    private async Task<int> MessageCountAsync()
    {
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<int>("select count(*) from messages");
    }

    private async Task<int> AppointmentCountAsync()
    {
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<int>("select count(*) from appointments");
    }
}
