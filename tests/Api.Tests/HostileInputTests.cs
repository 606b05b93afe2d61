using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RappelRdv.Api.Tenants;
using RappelRdv.Reminders.Tenants;
using RappelRdv.TestSupport;

namespace RappelRdv.Api.Tests;

/// <summary>CONTRACT §9.2: control characters, oversized bodies and forms, and the brief memory of unknown keys.</summary>
public sealed class HostileInputTests(ApiFactory api) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    private const string RdvsSecret = "rdvs-hostile-shared-secret";
    private HttpClient agenda = null!;

    public async Task InitializeAsync()
    {
        api.Settings["Twilio:AuthToken"] = FakeTwilio.AuthToken;
        await api.Database.ResetAsync();
        var keys = await api.CreateTenantAsync("hostile", new
        {
            slug = "hostile", name = "Hostile", quietHours = (object?)null, rdvSolidarites = new { secret = RdvsSecret },
        });
        agenda = api.WithKey(keys.ApiKey);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public static TheoryData<string, string> ControlCharacterBodies => new()
    {
        { """{"startsAt":"2030-12-03T09:30:00+01:00","citizen":{"phone":"0612345678"},"service":"RSA\u0000"}""", "service" },
        { """{"startsAt":"2030-12-03T09:30:00+01:00","citizen":{"phone":"0612345678","firstName":"Awa\u001f"}}""", "citizen.firstName" },
        { """{"startsAt":"2030-12-03T09:30:00+01:00","citizen":{"phone":"0612345678"},"location":{"name":"UTS\nToulon"}}""", "location.name" },
        { """{"startsAt":"2030-12-03T09:30:00+01:00","citizen":{"phone":"0612345678"},"location":{"address":"12 rue\u007f"}}""", "location.address" },
    };

    [Theory]
    [MemberData(nameof(ControlCharacterBodies))]
    public async Task A_control_character_in_an_appointment_is_a_400_naming_the_field_and_stores_nothing(string body, string field)
    {
        var before = await DatabaseSnapshot.TakeAsync(api.Database);

        var response = await agenda.PutAsync("/v1/appointments/rdv-ctl", new StringContent(body, Encoding.UTF8, "application/json"));

        await AssertProblem(response, HttpStatusCode.BadRequest, field);
        Assert.Equal(before, await DatabaseSnapshot.TakeAsync(api.Database));
    }

    [Fact]
    public async Task A_control_character_in_a_tenant_or_its_reminders_is_a_400_naming_the_field()
    {
        var name = await api.Admin().PostAsync("/v1/admin/tenants", new StringContent(
            """{"slug":"ctl","name":"Var\u0000"}""", Encoding.UTF8, "application/json"));
        var nested = await api.Admin().PostAsync("/v1/admin/tenants", new StringContent(
            """{"slug":"ctl","name":"Var","reminders":[{"channel":"sms","before":"P2D"},{"channel":"sms\u0007","before":"P1D"}]}""", Encoding.UTF8, "application/json"));

        await AssertProblem(name, HttpStatusCode.BadRequest, "name");
        await AssertProblem(nested, HttpStatusCode.BadRequest, "reminders[1].channel");
        Assert.Equal(HttpStatusCode.NotFound, (await api.Admin().GetAsync("/v1/admin/tenants/ctl")).StatusCode);
    }

    [Fact]
    public async Task A_control_character_in_what_is_kept_of_an_RDV_Solidarites_webhook_is_a_400_naming_the_field()
    {
        var hook = RdvsWebhook.OneToOne(RdvsPerson.Awa with { FirstName = "Awa\u0000" });
        var body = hook.ToBytes();

        var response = await SendRdvsAsync(body);

        await AssertProblem(response, HttpStatusCode.BadRequest, "data.participations[0].user.first_name");
        Assert.Equal(HttpStatusCode.NotFound, (await agenda.GetAsync($"/v1/appointments/{hook.ExternalId(RdvsPerson.Awa)}")).StatusCode);
    }

    [Theory]
    [InlineData("08 99 12 34 56")]      // premium rate
    [InlineData("0810 12 34 56")]       // shared cost
    [InlineData("+33 800 12 34 56")]    // free, but still not a citizen's line
    public async Task A_service_number_is_a_400_naming_citizen_phone_from_the_api_and_from_RDV_Solidarites_and_stores_nothing(string number)
    {
        var before = await DatabaseSnapshot.TakeAsync(api.Database);
        var hook = RdvsWebhook.OneToOne(RdvsPerson.Awa with { Phone = number });

        var put = await agenda.PutAsync("/v1/appointments/rdv-08", new StringContent(
            $$$"""{"startsAt":"2030-12-03T09:30:00+01:00","citizen":{"phone":"{{{number}}}","channel":"voice"}}""", Encoding.UTF8, "application/json"));
        var webhook = await SendRdvsAsync(hook.ToBytes());

        await AssertProblem(put, HttpStatusCode.BadRequest, "citizen.phone");
        await AssertProblem(webhook, HttpStatusCode.BadRequest, "citizen.phone");
        Assert.Equal(before, await DatabaseSnapshot.TakeAsync(api.Database));
        // Through the responsible adult too: the number the reminders would reach is the one checked.
        var child = RdvsWebhook.OneToOne(RdvsPerson.Noah with { Responsible = RdvsPerson.Awa with { Phone = number } });
        await AssertProblem(await SendRdvsAsync(child.ToBytes()), HttpStatusCode.BadRequest, "citizen.phone");
    }

    [Fact]
    public async Task A_control_character_in_a_signed_twilio_form_is_a_400_naming_the_field_but_an_sms_may_have_lines()
    {
        var bad = TwilioSigner.SignedPost("http://rappel.test", "/twilio/sms/inbound",
            new() { ["From"] = "+33612345678", ["Body"] = "OUI", ["MessageSid"] = "SM\u0001123" });
        // A NUL is refused by ASP.NET Core's form reader itself: a 400 too, without the field's name.
        var nul = TwilioSigner.SignedPost("http://rappel.test", "/twilio/sms/inbound",
            new() { ["From"] = "+33612345678", ["Body"] = "OUI\u0000", ["MessageSid"] = "SM0123" });
        var lines = TwilioSigner.SignedPost("http://rappel.test", "/twilio/sms/inbound",
            new() { ["From"] = "+33612345678", ["Body"] = "Oui\r\nmerci", ["MessageSid"] = "SM0123456789abcdef0123456789abcdef" });

        await AssertProblem(await api.CreateClient().SendAsync(bad), HttpStatusCode.BadRequest, "MessageSid");
        await AssertProblem(await api.CreateClient().SendAsync(nul), HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.OK, (await api.CreateClient().SendAsync(lines)).StatusCode);
    }

    [Fact]
    public async Task A_body_over_256_KiB_is_a_413_on_its_length_alone_and_when_streamed()
    {
        var before = await DatabaseSnapshot.TakeAsync(api.Database);
        var big = new byte[(256 * 1024) + 1];

        // Declared too large: refused without reading.
        var declared = await agenda.PutAsync("/v1/appointments/rdv-big", new ByteArrayContent(big) { Headers = { ContentType = new("application/json") } });
        // Chunked, no length: refused once the limit is crossed (here by a form, which the JSON limit does not cover).
        var streamed = await SameSite().PostAsync("/dashboard/login", new StreamContent(new MemoryStream(big))
        {
            Headers = { ContentType = new("application/x-www-form-urlencoded") },
        });
        var webhook = await SendRdvsAsync(new byte[(512 * 1024) + 1]);
        var webhookUnderItsLimit = await SendRdvsAsync(new byte[300 * 1024]);

        await AssertProblem(declared, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        await AssertProblem(webhook, HttpStatusCode.RequestEntityTooLarge);
        await AssertProblem(webhookUnderItsLimit, HttpStatusCode.BadRequest, "body");   // read in full: signed, but not JSON
        Assert.Equal(before, await DatabaseSnapshot.TakeAsync(api.Database));
    }

    [Fact]
    public async Task A_form_over_its_limits_is_a_4xx_not_a_5xx()
    {
        var fields = string.Join("&", Enumerable.Range(0, 500).Select(i => $"f{i}=x"));
        var tooMany = await api.CreateClient().PostAsync("/hangfire/login", new StringContent(fields, Encoding.UTF8, "application/x-www-form-urlencoded"));
        var tooLong = await SameSite().PostAsync("/dashboard/login", new StringContent("key=" + new string('a', 20_000), Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
    }

    [Fact]
    public async Task An_unknown_key_is_remembered_briefly_so_that_repeating_it_reads_nothing()
    {
        var cache = api.Services.GetRequiredService<TenantCache>();
        // An earlier test of this class may have left the tenant among the known ones, whose key would be
        // compared first on every call: start from a cache that holds nothing of it.
        cache.Forget("hostile");
        var wrong = TenantSecrets.NewKey(KeyRole.Api, "hostile");
        var compared = 0;
        bool Matches(TenantCache.KnownTenant t)
        {
            compared++;   // called on a tenant read from the database (the cache of known ones holds none here)
            return TenantSecrets.Matches(wrong, t.ApiKeyHash);
        }

        Assert.Null(await cache.FindAsync("hostile", wrong, Matches, CancellationToken.None));
        var first = compared;
        Assert.True(first > 0);
        Assert.Null(await cache.FindAsync("hostile", wrong, Matches, CancellationToken.None));
        Assert.Equal(first, compared);

        api.Clock.Advance(TenantCache.UnknownKeyTimeToLive + TimeSpan.FromSeconds(1));
        Assert.Null(await cache.FindAsync("hostile", wrong, Matches, CancellationToken.None));
        Assert.True(compared > first);
    }

    /// <summary>As a browser posts the dashboard's own form.</summary>
    private HttpClient SameSite()
    {
        var client = api.CreateClient();
        client.DefaultRequestHeaders.Add("Sec-Fetch-Site", "same-origin");
        return client;
    }

    private async Task<HttpResponseMessage> SendRdvsAsync(byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/rdv-solidarites/hostile") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json; charset=utf-8");
        request.Headers.Add("X-Lapin-Signature", Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(RdvsSecret), body)));
        return await api.CreateClient().SendAsync(request);
    }

    internal static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string? field = null)
    {
        Assert.True(status == response.StatusCode, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (field is not null)
        {
            Assert.True(problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _), $"expected an error on '{field}': {problem}");
        }
    }
}
