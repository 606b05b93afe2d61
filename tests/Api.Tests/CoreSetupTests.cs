extern alias worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using RappelRdv.Reminders.Hosting;
using RappelRdv.Reminders.Twilio;
using RappelRdv.TestSupport;
using WorkerSetup = worker::RappelRdv.Worker.WorkerSetup;

namespace RappelRdv.Api.Tests;

/// <summary>
/// Both hosts take their shared settings from one registration (CoreSetup): the same defaults, the
/// same validation at start: a bad setting stops a host before any of its services starts.
/// </summary>
public sealed class CoreSetupTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{

    [Fact]
    public void The_worker_derives_its_callback_urls_from_the_one_default_base_url()
    {
        using var host = WorkerHost([]);

        var urls = host.Services.GetRequiredService<CallbackUrls>();
        Assert.Equal(new Uri(PublicOptions.DefaultBaseUrl + "/twilio/sms/status"), urls.SmsStatus);
        var messageId = Guid.NewGuid();
        Assert.Equal(new Uri(PublicOptions.DefaultBaseUrl + $"/twilio/sms/status?m={messageId:N}"), urls.SmsStatusOf(messageId));
    }

    [Fact]
    public async Task The_api_and_the_worker_give_twilio_the_same_callback_urls()
    {
        var api = new ApiFactory();
        await api.InitializeAsync();
        try
        {
            using var worker = WorkerHost(new() { ["PublicBaseUrl"] = "http://rappel.test" });

            var messageId = Guid.NewGuid();
            var fromApi = api.Services.GetRequiredService<CallbackUrls>();
            var fromWorker = worker.Services.GetRequiredService<CallbackUrls>();
            Assert.Equal(new Uri("http://rappel.test/twilio/sms/status"), fromApi.SmsStatus);
            Assert.Equal(fromApi.SmsStatus, fromWorker.SmsStatus);
            Assert.Equal(fromApi.VoiceScript(messageId), fromWorker.VoiceScript(messageId));
        }
        finally
        {
            await ((IAsyncLifetime)api).DisposeAsync();
        }
    }

    [Theory]
    [InlineData("Dispatch:Slices", "0", "Dispatch__Slices")]
    [InlineData("Dispatch:ClaimLease", "-00:01:00", "Dispatch__ClaimLease")]
    [InlineData("PublicBaseUrl", "not a url", "PublicBaseUrl")]
    [InlineData("Twilio:MaxRequestsPerSecond", "0", "Twilio__MaxRequestsPerSecond")]
    public async Task A_worker_with_a_bad_setting_refuses_to_start_and_names_the_key(string key, string value, string named)
    {
        using var host = WorkerHost(new() { [key] = value });

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        // One failure, or several at once (PublicBaseUrl is read by two options) in an AggregateException.
        IReadOnlyCollection<Exception> failures = refused is AggregateException all ? all.InnerExceptions : [refused];
        Assert.All(failures, failure => Assert.IsType<OptionsValidationException>(failure));
        Assert.Contains(failures, failure => failure.Message.Contains(named, StringComparison.Ordinal));
    }

    [Fact]
    public void Private_webhook_addresses_follow_the_environment_unless_the_setting_says_otherwise()
    {
        using var development = WorkerHost([], Environments.Development);
        using var production = WorkerHost([], Environments.Production);
        using var productionAllowing = WorkerHost(new() { ["Webhooks:AllowPrivateNetworks"] = "true" }, Environments.Production);

        Assert.True(development.Services.GetRequiredService<WebhookPolicy>().AllowPrivateNetworks);
        Assert.False(production.Services.GetRequiredService<WebhookPolicy>().AllowPrivateNetworks);
        Assert.True(productionAllowing.Services.GetRequiredService<WebhookPolicy>().AllowPrivateNetworks);
    }

    private IHost WorkerHost(Dictionary<string, string?> settings, string environment = "Production")
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = environment });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = database.ConnectionString });
        builder.Configuration.AddInMemoryCollection(settings);
        WorkerSetup.AddRappelWorker(builder);
        return builder.Build();
    }
}
