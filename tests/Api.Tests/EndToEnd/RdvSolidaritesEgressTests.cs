extern alias worker;

using RappelRdv.Api.Infrastructure;
using RappelRdv.Api.RdvSolidarites;
using RappelRdv.Contracts;
using RappelRdv.Reminders.RdvSolidarites;
using EventDelivery = worker::RappelRdv.Worker.Events.EventDelivery;
using RdvSolidaritesClient = worker::RappelRdv.Worker.RdvSolidarites.RdvSolidaritesClient;

namespace RappelRdv.Api.Tests.EndToEnd;

/// <summary>The egress rules of events hold for <c>rdvSolidarites.api.baseUrl</c>: when saved, and again at each connection.</summary>
public sealed class RdvSolidaritesEgressTests
{
    private static readonly RdvSolidaritesSecrets Secrets = new("egress-test-key-0123456789abcdef0123");

    [Theory]
    [InlineData("http://www.rdv-solidarites.fr")]
    [InlineData("https://127.0.0.1")]
    [InlineData("https://10.1.2.3")]
    [InlineData("https://www.rdv-solidarites.fr:8443")]
    public void A_base_url_outside_the_rules_is_refused_when_private_networks_are_not_allowed(string baseUrl)
    {
        var errors = new FieldErrors();

        var api = RdvSolidaritesApiSettings.Validate(
            new RdvSolidaritesApiRequest(baseUrl, "rappels@var.fr", Password: "secret"), allowPrivateNetworks: false, Secrets, errors);

        Assert.Null(api);
        Assert.True(errors.Any);
    }

    [Fact]
    public async Task The_Worker_does_not_connect_to_a_loopback_RDV_Solidarites_when_private_networks_are_not_allowed()
    {
        using var rdvs = new FakeRdvSolidarites();
        using var http = new HttpClient(EventDelivery.CreateHandler(allowPrivateNetworks: false));
        var api = new RdvSolidaritesApi(rdvs.BaseUrl, FakeRdvSolidarites.Email, Secrets.Protect(FakeRdvSolidarites.Password), null, null);

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() =>
            new RdvSolidaritesClient(http, Secrets, TimeProvider.System).WriteExcusedAsync(1, api, 420100, CancellationToken.None));

        Assert.Equal(HttpRequestError.ConnectionError, refused.HttpRequestError);
        Assert.Equal(0, rdvs.SignIns + rdvs.Patches);
    }

    [Fact]
    public void The_partner_signature_is_the_one_RDV_Solidarites_computes_even_for_names_Rails_escapes()
    {
        // { id: 7, first_name: "Zoé", last_name: "L'Hôte <&>", email: "a@b.fr" }.to_json in Rails, hashed with "secret".
        const string rails = """{"id":7,"first_name":"Zoé","last_name":"L'Hôte \u003c\u0026\u003e","email":"a@b.fr"}""";
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes("secret"), System.Text.Encoding.UTF8.GetBytes(rails)));

        Assert.Equal(expected, RdvSolidaritesApi.AgentSignature("secret", new RdvSolidaritesAgent(7, "Zoé", "L'Hôte <&>"), "a@b.fr"));
    }
}
