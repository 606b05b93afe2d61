using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RappelRdv.Contracts;
using RappelRdv.TestSupport;

namespace RappelRdv.Api.Tests;

/// <summary>The real Api host on a database of its own, with a clock the tests move.</summary>
public sealed class ApiFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdminKey = "test-admin-key-0123456789abcdef01234";

    /// <summary>Prometheus's token for <c>/metrics</c> (never the admin key).</summary>
    public const string MetricsToken = "test-metrics-token-0123456789abcdef";

    public PostgresDatabase Database { get; } = new();

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));

    public string LogFile { get; } = Path.Combine(Path.GetTempPath(), $"rappel-api-{Guid.NewGuid():N}.log");

    public Dictionary<string, string?> Settings { get; } = [];

    /// <summary>The Api's log file once it holds <paramref name="until"/>: the file sink flushes on a short timer.</summary>
    public Task<string> ReadLogAsync(string until) => ReadLogAsync(LogFile, until);

    /// <summary>A host's log file (<c>Logging:FilePath</c>) once it holds <paramref name="until"/>.</summary>
    public static Task<string> ReadLogAsync(string path, string until) =>
        Eventually.ValueAsync(async () =>
        {
            if (!File.Exists(path))
            {
                return "";
            }

            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return await new StreamReader(stream).ReadToEndAsync();
        }, log => log.Contains(until, StringComparison.Ordinal), TimeSpan.FromSeconds(5));

    public async Task InitializeAsync() => await Database.InitializeAsync();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("ConnectionStrings:Postgres", Database.ConnectionString);
        builder.UseSetting("Admin:ApiKey", AdminKey);
        builder.UseSetting("Metrics:Token", MetricsToken);
        builder.UseSetting("Logging:FilePath", LogFile);
        builder.UseSetting("PublicBaseUrl", "http://rappel.test");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(services => services.AddSingleton<TimeProvider>(Clock));
    }

    /// <summary>A client whose every <c>/v1</c> answer is checked against docs/openapi.json (<see cref="OpenApiConformance"/>).</summary>
    public new HttpClient CreateClient() =>
        CreateDefaultClient(ClientOptions.BaseAddress, new RedirectHandler(), new CookieContainerHandler(), new OpenApiConformance());

    public HttpClient Admin()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
    }

    public HttpClient Metrics() => WithKey(MetricsToken);

    public HttpClient WithKey(string key)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>Creates a tenant through the operator's API and returns its keys.</summary>
    public async Task<TenantKeys> CreateTenantAsync(string slug, object? settings = null)
    {
        var body = settings ?? new { slug, name = $"Tenant {slug}" };
        var response = await Admin().PostAsJsonAsync("/v1/admin/tenants", body);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TenantKeys>())!;
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        await Database.DisposeAsync();
        if (Environment.GetEnvironmentVariable("KEEP_TEST_LOGS") is null)
        {
            File.Delete(LogFile);
        }
    }
}
