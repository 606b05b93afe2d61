using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using RappelRdv.Contracts;
using RappelRdv.TestSupport;

namespace RappelRdv.Api.Tests.EndToEnd;

/// <summary>
/// CONTRACT §10 through the real processes: the Api host, a Worker started as its own process (its
/// hosted write-back loop, its real clock), a fake Twilio and a fake RDV-Solidarités. Webhook in,
/// SMS out, the citizen's NON in, the PATCH out within the contract's 60 seconds.
/// </summary>
public sealed class RdvSolidaritesWorkerProcessTests : IAsyncLifetime
{
    private const string WebhookSecret = "rdvs-var-shared-secret";

    private readonly ApiFactory api = new();
    private readonly FakeTwilio twilio = new();
    private readonly FakeRdvSolidarites rdvs = new();
    private readonly ConcurrentQueue<string> workerOutput = new();
    private Process? workerProcess;
    private HttpClient? agenda;

    public async Task InitializeAsync()
    {
        api.Settings["Twilio:AuthToken"] = FakeTwilio.AuthToken;
        await ((IAsyncLifetime)api).InitializeAsync();
        // The Worker runs on the real clock: the Api's follows it.
        api.Clock.SetUtcNow(TimeProvider.System.GetUtcNow());
    }

    public async Task DisposeAsync()
    {
        if (workerProcess is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        rdvs.Dispose();
        twilio.Dispose();
        await ((IAsyncLifetime)api).DisposeAsync();
    }

    [Fact]
    public async Task Webhook_in_SMS_out_reply_in_PATCH_out()
    {
        await api.CreateTenantAsync("var", new
        {
            slug = "var", name = "Département du Var", quietHours = (object?)null, notifyOnCreate = false,
            reminders = new[] { new { channel = "sms", before = "P1D" } },
            rdvSolidarites = new
            {
                secret = WebhookSecret,
                api = new { baseUrl = rdvs.BaseUrl, email = FakeRdvSolidarites.Email, password = FakeRdvSolidarites.Password },
            },
        });
        var now = TimeProvider.System.GetUtcNow();
        var hook = new RdvsWebhook
        {
            RdvId = 5100,
            StartsAt = now.AddHours(20).ToOffset(TimeSpan.FromHours(1)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture),
            Timestamp = now.ToOffset(TimeSpan.FromHours(1)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture),
        };
        Assert.Equal("created", Assert.Single((await WebhookAsync(hook)).Appointments).Result);

        StartWorker();
        await WaitUntilAsync(() => twilio.Messages.Count >= 1, TimeSpan.FromSeconds(90), "the reminder SMS");
        var sms = Assert.Single(twilio.Messages);
        Assert.Equal("+33612345678", sms["To"]);
        // The Worker records the send after Twilio's answer: the reply is matched to a messaged appointment.
        await WaitUntilAsync(SentAsync, TimeSpan.FromSeconds(30), "the SMS recorded as sent");

        api.Clock.SetUtcNow(TimeProvider.System.GetUtcNow());
        var replied = Stopwatch.StartNew();
        var answer = await api.CreateClient().SendAsync(TwilioSigner.SignedPost("http://rappel.test", "/twilio/sms/inbound", new Dictionary<string, string>
        {
            ["From"] = "+33612345678", ["To"] = "+33700000000", ["Body"] = "NON", ["MessageSid"] = "SM" + Guid.NewGuid().ToString("N"),
            ["AccountSid"] = FakeTwilio.AccountSid,
        }));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        await WaitUntilAsync(() => !rdvs.Written.IsEmpty, TimeSpan.FromSeconds(60), "the PATCH to RDV-Solidarités");
        var elapsed = replied.Elapsed;

        Assert.Equal((510000L, "excused"), Assert.Single(rdvs.Written));
        Assert.True(elapsed < TimeSpan.FromSeconds(60), $"written back after {elapsed}");
        Assert.Equal(1, rdvs.SignIns);
        await WaitUntilAsync(async () => (await ViewAsync()).RdvSolidaritesWriteBack?.Status == "done", TimeSpan.FromSeconds(10), "done in GET");
        Assert.Equal("cancelled_by_citizen", (await ViewAsync()).Status);
        Assert.DoesNotContain(workerOutput, line => line.Contains(FakeRdvSolidarites.Password, StringComparison.Ordinal));
        Assert.Contains(workerOutput, line => line.Contains("written back to RDV-Solidarités", StringComparison.Ordinal));
    }

    private async Task<AppointmentView> ViewAsync()
    {
        if (agenda is null)
        {
            // The tenant's key, rotated once: the view is read at every look of a wait.
            var keys = await api.Admin().PostAsJsonAsync("/v1/admin/tenants/var/keys", new { rotate = new[] { "apiKey" } });
            agenda = api.WithKey((await keys.Content.ReadFromJsonAsync<RotatedKeys>())!.ApiKey!);
        }

        return (await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/rdvs-5100-10"))!;
    }

    private async Task<bool> SentAsync()
    {
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        await using var command = new Npgsql.NpgsqlCommand("select count(*) from messages where status = 'sent'", connection);
        return (long)(await command.ExecuteScalarAsync())! >= 1;
    }

    private void StartWorker()
    {
        // The Worker's own build (its deps.json and runtimeconfig), not the copy in this test's output.
        var dll = Path.Combine(RepositoryRoot(), "src", "Worker", "bin", Configuration, "net10.0", "RappelRdv.Worker.dll");
        Assert.True(File.Exists(dll), $"{dll}: build the solution first");
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["DOTNET_ENVIRONMENT"] = "Development",
                ["ConnectionStrings__Postgres"] = api.Database.ConnectionString,
                ["PublicBaseUrl"] = "http://rappel.test",
                ["Admin__ApiKey"] = ApiFactory.AdminKey,
                ["Twilio__AccountSid"] = FakeTwilio.AccountSid,
                ["Twilio__AuthToken"] = FakeTwilio.AuthToken,
                ["Twilio__ApiBaseUrl"] = twilio.BaseUrl,
                ["Twilio__FromNumber"] = "+33700000000",
                // The fake RDV-Solidarités listens on the loopback, over http.
                ["Webhooks__AllowPrivateNetworks"] = "true",
                // A loaded machine answers slowly; the product's deadlines are not what this test is about.
                ["Twilio__RequestTimeout"] = "00:00:30",
                ["Events__AttemptTimeout"] = "00:00:30",
            },
        };
        workerProcess = Process.Start(start)!;
        workerProcess.OutputDataReceived += (_, line) => { if (line.Data is { } data) { workerOutput.Enqueue(data); } };
        workerProcess.ErrorDataReceived += (_, line) => { if (line.Data is { } data) { workerOutput.Enqueue(data); } };
        workerProcess.BeginOutputReadLine();
        workerProcess.BeginErrorReadLine();
    }

#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "RappelRdv.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("RappelRdv.sln not found above " + AppContext.BaseDirectory);
    }

    private async Task<RdvSolidaritesAnswer> WebhookAsync(RdvsWebhook hook)
    {
        using var request = FakeRdvSolidarites.SignedWebhook(hook, "var", WebhookSecret);
        var response = await api.CreateClient().SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<RdvSolidaritesAnswer>())!;
    }

    private Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        WaitUntilAsync(() => Task.FromResult(condition()), timeout, what);

    /// <summary>Waits for what the Worker process must do; past the timeout, says what, with the Worker's last lines.</summary>
    private Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what) =>
        Eventually.UntilAsync(
            condition,
            () => $"{what}: not within {timeout}; the Worker said: {string.Join("\n", workerOutput.Where(l => !l.TrimStart().StartsWith("at ", StringComparison.Ordinal)).TakeLast(15))}",
            timeout);
}
