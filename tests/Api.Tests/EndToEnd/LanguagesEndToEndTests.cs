using System.Net;
using System.Net.Http.Json;
using System.Xml.Linq;
using RappelRdv.Contracts;
using RappelRdv.TestSupport;

namespace RappelRdv.Api.Tests.EndToEnd;

/// <summary>
/// Each language from the agenda's PUT to the citizen's answer, through the fake Twilio: the SMS
/// Twilio receives is in that language, the call is spoken with that language's voice and its
/// keys prompted in it, and a reply in that language confirms and is acknowledged in it.
/// </summary>
public sealed class LanguagesEndToEndTests(EndToEndHarness e2e) : IClassFixture<EndToEndHarness>, IAsyncLifetime
{
    public Task InitializeAsync() => e2e.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private DateTimeOffset Now => e2e.Api.Clock.GetUtcNow();

    [Theory]
    // language, words the reminder must say, the citizen's reply, a word of the acknowledgment, <Say language>, voice, a word of the keypad prompt
    [InlineData("fr", "RDV RSA", "oui", "confirmé", "fr-FR", "Polly.Lea", "tapez 1")]
    [InlineData("en", "RSA appointment", "Yes thanks", "confirmed", "en-GB", "Polly.Amy", "press 1")]
    [InlineData("es", "cita RSA", "Sí", "confirmada", "es-ES", "Polly.Lucia", "pulse 1")]
    [InlineData("pt", "atendimento RSA", "sim", "confirmado", "pt-PT", "Polly.Ines", "marque 1")]
    [InlineData("tr", "RSA randevu", "Evet", "onaylandi", "tr-TR", "Polly.Filiz", "1'e")]
    [InlineData("ar", "موعد RSA", "نعم", "تأكيد", "ar-XA", "Google.ar-XA-Standard-A", "اضغطوا 1")]
    public async Task A_citizen_is_written_to_called_and_understood_in_their_language(
        string language, string reminderWords, string reply, string acknowledgment, string sayLanguage, string voice, string prompt)
    {
        var (agenda, _) = await e2e.TenantAsync("var");
        await PutAsync(agenda, "rdv-sms", "06 12 34 56 78", "sms", language);
        await PutAsync(agenda, "rdv-call", "04 94 12 34 56", "voice", language);

        Assert.Equal(2, await e2e.DispatchAsync());

        var sms = Assert.Single(e2e.Twilio.Messages);
        Assert.Contains(reminderWords, sms["Body"], StringComparison.OrdinalIgnoreCase);
        Assert.Equal(language == "ar", !RappelRdv.Reminders.Texts.Gsm7.IsGsm7(sms["Body"]));
        Assert.InRange(RappelRdv.Reminders.Texts.Gsm7.Segments(sms["Body"]), 1, language == "ar" ? 3 : 2);

        var call = Assert.Single(e2e.Twilio.Calls);
        var twiml = await TwilioPostsAsync(call["Url"], new() { ["CallSid"] = call["Sid"], ["AnsweredBy"] = "human" });
        var says = twiml.Descendants("Say").ToList();
        Assert.All(says, say => Assert.Equal(sayLanguage, say.Attribute("language")?.Value));
        Assert.All(says, say => Assert.Equal(voice, say.Attribute("voice")?.Value));
        Assert.Contains(prompt, twiml.Element("Gather")!.Element("Say")!.Value, StringComparison.Ordinal);

        var answer = XDocument.Parse(await e2e.CitizenSmsAsync(reply)).Root!.Element("Message")!.Value;
        Assert.Contains(acknowledgment, answer, StringComparison.Ordinal);
        var view = (await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-sms"))!;
        Assert.Equal("confirmed", view.Status);
        Assert.Equal(language, view.Citizen.Language);
    }

    [Fact]
    public async Task A_key_pressed_is_acknowledged_in_the_citizen_s_language()
    {
        var (agenda, _) = await e2e.TenantAsync("var");
        await PutAsync(agenda, "rdv-call", "04 94 12 34 56", "voice", "es");
        await e2e.DispatchAsync();
        var call = Assert.Single(e2e.Twilio.Calls);

        var twiml = await TwilioPostsAsync(call["Url"] + "/gather", new() { ["CallSid"] = call["Sid"], ["Digits"] = "2" });

        Assert.Contains("anulada", twiml.Elements("Say").First().Value, StringComparison.Ordinal);
        Assert.Equal("cancelled_by_citizen", (await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-call"))!.Status);
    }

    [Fact]
    public async Task Without_a_language_the_citizen_gets_the_tenant_s_default_and_a_bad_one_is_400()
    {
        var (agenda, _) = await e2e.TenantAsync("var", new
        {
            slug = "var", name = "Var", quietHours = (object?)null, notifyOnCreate = false,
            reminders = new[] { new { channel = "sms", before = "P1D" } },
            texts = new { defaultLanguage = "pt" },
        });
        await e2e.PutAppointmentAsync(agenda, "rdv-1", Now.AddHours(20));
        await PutAsync(agenda, "rdv-2", "06 12 34 56 79", "sms", "en-GB");

        Assert.Equal("pt", (await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-1"))!.Citizen.Language);
        Assert.Equal("en", (await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdv-2"))!.Citizen.Language);

        var bad = await agenda.PutAsJsonAsync("/v1/appointments/rdv-3", new
        {
            startsAt = "2026-12-03T09:30:00+01:00",
            citizen = new { phone = "06 12 34 56 78", language = "de" },
        });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        Assert.Contains("citizen.language", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task PutAsync(HttpClient agenda, string externalId, string phone, string channel, string language)
    {
        var response = await agenda.PutAsJsonAsync($"/v1/appointments/{externalId}", new
        {
            startsAt = Now.AddHours(20).ToString("yyyy-MM-ddTHH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture),
            citizen = new { phone, channel, language },
            service = "RSA",
            location = new { name = "UTS Toulon Ouest", address = "12 rue Picot, 83000 Toulon", phone = "04 94 00 00 00" },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private async Task<XElement> TwilioPostsAsync(string url, Dictionary<string, string> form)
    {
        var uri = new Uri(url);
        var response = await e2e.Api.CreateClient().SendAsync(TwilioSigner.SignedPost(EndToEndHarness.PublicBaseUrl, uri.PathAndQuery, form));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return XDocument.Parse(await response.Content.ReadAsStringAsync()).Root!;
    }
}
