extern alias worker;

using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RappelRdv.Contracts;
using RappelRdv.TestSupport;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using BillingJobs = worker::RappelRdv.Worker.Billing.BillingJobs;
using Dispatcher = worker::RappelRdv.Worker.Dispatch.Dispatcher;
using EventDelivery = worker::RappelRdv.Worker.Events.EventDelivery;
using WriteBackDelivery = worker::RappelRdv.Worker.RdvSolidarites.WriteBackDelivery;
using WorkerSetup = worker::RappelRdv.Worker.WorkerSetup;

namespace RappelRdv.Api.Tests.EndToEnd;

/// <summary>
/// The whole product on one database: the real Api host, the Worker's sending services, a
/// fake Twilio and a fake agenda (both WireMock.Net), one clock the test moves.
/// </summary>
public sealed class EndToEndHarness : IAsyncLifetime
{
    public const string PublicBaseUrl = "http://rappel.test";

    private ServiceProvider workerServices = null!;

    public EndToEndHarness()
    {
        Api.Settings["Twilio:AuthToken"] = FakeTwilio.AuthToken;
        Agenda.Given(Request.Create().WithPath("/events").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
        {
            AgendaCalls.Enqueue(request);
            foreach (var problem in OpenApiConformance.EventProblems(request.Body ?? ""))
            {
                EventsNotAsDocumented.Enqueue(problem);
            }

            return new ResponseMessage { StatusCode = AgendaStatus };
        }));
    }

    public ApiFactory Api { get; } = new();

    public FakeTwilio Twilio { get; } = new();

    public WireMockServer Agenda { get; } = WireMockServer.Start();

    public ConcurrentQueue<IRequestMessage> AgendaCalls { get; } = new();

    /// <summary>How the events the fake agenda received differ from their description under the document's <c>webhooks</c>.</summary>
    public ConcurrentQueue<string> EventsNotAsDocumented { get; } = new();

    /// <summary>What the agenda answers to events.</summary>
    public int AgendaStatus { get; set; } = 200;

    internal Dispatcher Dispatcher => workerServices.GetRequiredService<Dispatcher>();

    internal EventDelivery Events => workerServices.GetRequiredService<EventDelivery>();

    internal BillingJobs Billing => workerServices.GetRequiredService<BillingJobs>();

    internal WriteBackDelivery WriteBacks => workerServices.GetRequiredService<WriteBackDelivery>();

    public async Task InitializeAsync()
    {
        await ((IAsyncLifetime)Api).InitializeAsync();
        workerServices = BuildWorkerServices();
    }

    /// <summary>The Worker's sending services as this harness runs them, plus what <paramref name="configure"/> adds (a test's own tracing).</summary>
    internal ServiceProvider BuildWorkerServices(Action<IServiceCollection, IConfiguration>? configure = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = Api.Database.ConnectionString,
            ["PublicBaseUrl"] = PublicBaseUrl,
            ["Twilio:AccountSid"] = FakeTwilio.AccountSid,
            ["Twilio:AuthToken"] = FakeTwilio.AuthToken,
            ["Twilio:ApiBaseUrl"] = Twilio.BaseUrl,
            ["Twilio:FromNumber"] = "+33700000000",
            ["Twilio:VoiceFromNumber"] = "+33900000000",
            // The fake answers at once; on a loaded machine an answer can still take longer than the product's 5 s.
            ["Twilio:RequestTimeout"] = "00:00:30",
            // What protects the tenants' RDV-Solidarités secrets, as the Api has it.
            ["Admin:ApiKey"] = ApiFactory.AdminKey,
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton<TimeProvider>(Api.Clock);
        WorkerSetup.AddReminderSending(services, configuration, allowPrivateWebhooks: true);
        // The fake agenda answers at once, but on a machine loaded by the rest of the suite its answer can
        // take longer than the product's 10 s: these tests check what is sent, not how fast the machine is.
        services.AddHttpClient(EventDelivery.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(60));
        configure?.Invoke(services, configuration);
        return services.BuildServiceProvider();
    }

    public async Task ResetAsync()
    {
        await Api.Database.ResetAsync();
        Twilio.Reset();
        AgendaCalls.Clear();
        AgendaStatus = 200;
        Api.Clock.AdjustTime(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    }

    /// <summary>A tenant whose agenda listens on the fake agenda; returns its agenda client and webhook secret.</summary>
    public async Task<(HttpClient Agenda, TenantKeys Keys)> TenantAsync(string slug, object? extra = null)
    {
        var keys = await Api.CreateTenantAsync(slug, extra ?? new
        {
            slug,
            name = slug,
            quietHours = (object?)null,
            notifyOnCreate = false,
            reminders = new[] { new { channel = "sms", before = "P1D" } },
            webhook = new { url = Agenda.Url + "/events" },
        });
        return (Api.WithKey(keys.ApiKey), keys);
    }

    public async Task PutAppointmentAsync(HttpClient agenda, string externalId, DateTimeOffset startsAt, string phone = "06 12 34 56 78", string channel = "sms")
    {
        var response = await agenda.PutAsJsonAsync($"/v1/appointments/{externalId}", new
        {
            startsAt = startsAt.ToString("yyyy-MM-ddTHH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture),
            citizen = new { phone, channel },
            service = "RSA",
            location = new { name = "UTS Toulon Ouest", address = "12 rue Picot, 83000 Toulon", phone = "04 94 00 00 00" },
        });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>A citizen's SMS as Twilio posts it, signed.</summary>
    public async Task<string> CitizenSmsAsync(string body, string from = "+33612345678")
    {
        var form = new Dictionary<string, string>
        {
            ["From"] = from,
            ["To"] = "+33700000000",
            ["Body"] = body,
            ["MessageSid"] = "SM" + Guid.NewGuid().ToString("N"),
            ["AccountSid"] = FakeTwilio.AccountSid,
        };
        var response = await Api.CreateClient().SendAsync(TwilioSigner.SignedPost(PublicBaseUrl, "/twilio/sms/inbound", form));
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    public Task<int> DispatchAsync() => Dispatcher.DispatchDueAsync(CancellationToken.None);

    public async Task<int> DeliverEventsAsync()
    {
        var delivered = await Events.DeliverDueAsync(CancellationToken.None);
        Assert.Empty(EventsNotAsDocumented);
        return delivered;
    }

    /// <summary>Checks a delivered event the way an agenda would, from the contract alone.</summary>
    public static bool SignatureIsValid(IRequestMessage request, string webhookSecret)
    {
        var id = request.Headers!["webhook-id"].ToString();
        var timestamp = request.Headers["webhook-timestamp"].ToString();
        var signature = request.Headers["webhook-signature"].ToString();
        var key = Convert.FromBase64String(webhookSecret["whsec_".Length..]);
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{request.Body}")));
        return signature.Split(' ').Contains(expected);
    }

    public async Task DisposeAsync()
    {
        await workerServices.DisposeAsync();
        Agenda.Stop();
        Twilio.Dispose();
        await ((IAsyncLifetime)Api).DisposeAsync();
    }
}
