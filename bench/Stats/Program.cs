// Seeds tenants with appointments (one INSERT … SELECT generate_series, through the statistics
// triggers like any write), folds the ledger with the Worker's compactor, then times, for the first
// tenant, the answer of GET /v1/stats/no-show and the whole dashboard page (signed in, data loaded and
// rendered) through the real Api host (authentication, SQL, JSON/HTML), and prints a Markdown table
// for docs/BENCHMARKS.md.
//
//   ConnectionStrings__Postgres=… dotnet run -c Release --project bench/Stats -- [--appointments 1000000] [--tenants 1] [--repeats 200]
//
// --appointments is the total, split evenly over --tenants (national scale: 10000000 over 100).
//
// It creates and drops its own database (rappel_bench_stats) on that server.

extern alias worker;

using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;
using Microsoft.Extensions.Logging.Abstractions;
using RappelRdv.Contracts;
using StatsCompactor = worker::RappelRdv.Worker.Stats.StatsCompactor;

namespace RappelRdv.Bench.Stats;

internal static class StatsBench
{
    public static async Task<int> Main(string[] args)
    {
        // The host logs a JSON line per request to Console.Out: the report goes to the real stdout, the log lines nowhere.
        var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
        Console.SetOut(TextWriter.Null);
        var appointments = BenchTools.Option(args, "--appointments", 1_000_000);
        var repeats = BenchTools.Option(args, "--repeats", 200);
        var tenants = BenchTools.Option(args, "--tenants", 1);
        if (tenants < 1 || appointments < tenants)
        {
            throw new ArgumentException("--tenants must be at least 1 and at most --appointments.");
        }
        var server = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
            ?? throw new InvalidOperationException("Set ConnectionStrings__Postgres to a PostgreSQL server (the bench creates its own database there).");
        const string database = "rappel_bench_stats";
        const string adminKey = "bench-admin-key-0123456789abcdef0123456789";
        var connectionString = await BenchTools.FreshDatabaseAsync(server, database);

        await using var host = new BenchHost(connectionString, adminKey);
        using var operatorClient = host.CreateClient();
        operatorClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        // The first tenant is the one timed; the others are there to make the tables national-sized.
        TenantKeys? keys = null;
        for (var t = 0; t < tenants; t++)
        {
            using var created = await operatorClient.PostAsJsonAsync("/v1/admin/tenants",
                new { slug = t == 0 ? "bench" : $"bench-{t:D3}", name = $"Bench {t}", timeZone = "Europe/Paris", holdoutPercent = 10 });
            created.EnsureSuccessStatusCode();
            keys ??= (await created.Content.ReadFromJsonAsync<TenantKeys>())!;
        }

        using var manager = host.CreateClient();
        manager.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", keys!.ManagerKey);

        await using var db = NpgsqlDataSource.Create(connectionString);
        output.WriteLine($"Seeding {appointments:N0} appointments over 2025 (the year timed below) in {tenants} tenant(s)...");
        var seed = Stopwatch.StartNew();
        await using (var connection = await db.OpenConnectionAsync())
        {
            // Spread over every hour of 2025, with the mix of a real tenant: 6 services, 17 places, 3 channels,
            // 10 % holdout, ~40 % confirmed, outcomes for most, cancellations. Appointment g goes to the tenant of
            // rank g % tenants (tenants in creation order), so each has its share over the whole year.
            await connection.ExecuteAsync(
                """
                insert into appointments (tenant_id, external_id, starts_at, duration_minutes, status, outcome, phone_is_mobile, channel,
                    service, location_name, mode, holdout, content_hash, confirmed_at, created_at, updated_at)
                select t.id, 'b-' || g,
                       timestamptz '2025-01-01 00:00:00+01' + ((g::bigint * 7919) % @appointments) * (interval '365 days' / @appointments),
                       30,
                       case when r < 0.06 then 'cancelled_by_service' when r < 0.10 then 'cancelled_by_citizen' when r < 0.5 then 'confirmed' else 'scheduled' end,
                       case when r < 0.10 then null when r < 0.12 then 'excused' when r < 0.22 then 'no_show' when r < 0.97 then 'honoured' end,
                       true, (array['sms', 'sms', 'sms', 'voice', 'none'])[1 + g % 5],
                       (array['RSA', 'PMI', 'APA', 'ASE', 'Insertion', 'Logement'])[1 + g % 6],
                       'UTS ' || (g % 17), 'in_person', g % 10 = 0, '\x00',
                       case when r >= 0.10 and r < 0.5 then now() end, now(), now()
                from (select id, row_number() over (order by created_at, slug) - 1 as rank from tenants where slug like 'bench%') t,
                     (select g, random() as r from generate_series(1, @appointments) g) s
                where t.rank = g % @tenants
                """,
                new { appointments, tenants },
                commandTimeout: 3600);
        }

        seed.Stop();
        output.WriteLine($"Seeded in {seed.Elapsed.TotalSeconds:F1} s. Folding the ledger, as a Worker's compactor does...");
        var fold = Stopwatch.StartNew();
        // The Worker's compactor (the Api only reads): the same class, run once here rather than every 10 s.
        await new StatsCompactor(db, TimeProvider.System, NullLogger<StatsCompactor>.Instance).CompactAsync(CancellationToken.None);

        fold.Stop();
        await using (var connection = await db.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("vacuum analyze appointments, appointment_stats, appointment_stat_changes", commandTimeout: 3600);
        }

        var foldedRows = await Scalar("select count(*) from appointment_stats");
        output.WriteLine($"Folded in {fold.Elapsed.TotalSeconds:F1} s into {foldedRows:N0} rows.");

        var results = new List<(string Query, Summary Timing)>();
        foreach (var query in new[]
        {
            "from=2025-01-01&to=2025-12-31&by=week",
            "from=2025-01-01&to=2025-12-31&by=month",
            "from=2025-01-01&to=2025-12-31&by=service",
            "from=2025-01-01&to=2025-12-31&by=location",
            "from=2025-01-01&to=2025-12-31&by=cohort",
            "from=2023-01-01&to=2025-12-31&by=week",
        })
        {
            results.Add((query, await TimeAsync(async () =>
            {
                using var response = await manager.GetAsync($"/v1/stats/no-show?{query}");
                response.EnsureSuccessStatusCode();
                await response.Content.ReadAsByteArrayAsync();
            })));
        }

        // The whole dashboard of that year, as a signed-in manager sees it: every section's data loaded and the
        // HTML rendered by the page itself. Signed in with the manager key, as the login form does.
        using var browser = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        using (var login = new HttpRequestMessage(HttpMethod.Post, "/dashboard/login")
        {
            Content = new FormUrlEncodedContent([KeyValuePair.Create("key", keys.ManagerKey)]),
        })
        {
            login.Headers.Add("Sec-Fetch-Site", "same-origin");
            using var signedIn = await browser.SendAsync(login);
            if (signedIn.StatusCode != System.Net.HttpStatusCode.Redirect)
            {
                throw new InvalidOperationException($"The dashboard's login answered {(int)signedIn.StatusCode}, not a redirect to the page.");
            }
        }

        var pageBytes = 0;
        var dashboard = await TimeAsync(async () =>
        {
            using var response = await browser.GetAsync("/dashboard?from=2025-01-01&to=2025-12-31");
            response.EnsureSuccessStatusCode();
            pageBytes = (await response.Content.ReadAsByteArrayAsync()).Length;
        });

        // For comparison: the same year counted straight from appointments, as it would be without the maintained counts.
        var scan = await TimeAsync(async () =>
        {
            await using var connection = await db.OpenConnectionAsync();
            await connection.QueryAsync(
                """
                select (starts_at at time zone 'Europe/Paris')::date as day, count(*),
                       count(*) filter (where outcome = 'honoured'), count(*) filter (where outcome = 'no_show'),
                       count(*) filter (where outcome = 'excused'),
                       count(*) filter (where outcome is null and status in ('cancelled_by_citizen', 'cancelled_by_service'))
                from appointments
                where tenant_id = (select id from tenants where slug = 'bench')
                  and starts_at >= '2024-12-31 23:00+00' and starts_at < '2025-12-31 23:00+00'
                group by 1
                """,
                commandTimeout: 600);
        }, warmup: 1, runs: 5);

        // The cost on the write path: single-row updates that change an outcome, with and without the trigger.
        var withTrigger = await TimeUpdatesAsync(1000, 0);
        await Execute("alter table appointments disable trigger appointments_stats_update");
        var withoutTrigger = await TimeUpdatesAsync(1000, 1000);
        await Execute("alter table appointments enable trigger appointments_stats_update");

        var version = await ScalarText("select version()");
        output.WriteLine();
        output.WriteLine($"{appointments:N0} appointments in {tenants} tenant(s) ({appointments / tenants:N0} each), all in 2025; " +
            $"the first tenant timed; {Environment.ProcessorCount} cores; {version.Split(',')[0]}.");
        output.WriteLine($"Seed (one INSERT … SELECT, triggers on): {seed.Elapsed.TotalSeconds:F1} s; ledger folded by the Worker's compactor in {fold.Elapsed.TotalSeconds:F1} s " +
            $"into {foldedRows:N0} rows of appointment_stats.");
        output.WriteLine();
        output.WriteLine($"| GET /v1/stats/no-show?… ({repeats} runs after 20 warm-up) | p50 ms | p95 ms | max ms |");
        output.WriteLine("|---|---:|---:|---:|");
        foreach (var (query, timing) in results)
        {
            output.WriteLine($"| `{query}` | {timing.P50:F1} | {timing.P95:F1} | {timing.Max:F1} |");
        }

        output.WriteLine($"| GET /dashboard?from=2025-01-01&to=2025-12-31 (the whole page, signed in, {pageBytes / 1024.0:F0} KB of HTML) | {dashboard.P50:F1} | {dashboard.P95:F1} | {dashboard.Max:F1} |");
        output.WriteLine($"| without the maintained counts: the same year by day straight from `appointments` (5 runs) | {scan.P50:F1} | {scan.P95:F1} | {scan.Max:F1} |");
        output.WriteLine();
        output.WriteLine($"Write path, one UPDATE setting an outcome (1,000 runs): with the statistics trigger p50 {withTrigger.P50:F2} ms, " +
            $"p95 {withTrigger.P95:F2} ms; without it p50 {withoutTrigger.P50:F2} ms, p95 {withoutTrigger.P95:F2} ms.");

        await BenchTools.DropDatabaseAsync(server, database);

        return 0;

        Task<Summary> TimeAsync(Func<Task> run, int warmup = 20, int? runs = null) => BenchTools.TimeAsync(runs ?? repeats, run, warmup);

        async Task<Summary> TimeUpdatesAsync(int count, int offset)
        {
            await using var connection = await db.OpenConnectionAsync();
            var next = offset;
            return await TimeAsync(async () =>
            {
                next++;
                await connection.ExecuteAsync(
                    "update appointments set outcome = case when outcome = 'no_show' then 'honoured' else 'no_show' end, updated_at = now() " +
            "where tenant_id = (select id from tenants where slug = 'bench') and external_id = @id",
                    new { id = $"b-{next * tenants}" }); // the first tenant's appointments are those with g % tenants = 0
            }, warmup: 0, runs: count);
        }

        async Task<long> Scalar(string sql)
        {
            await using var connection = await db.OpenConnectionAsync();
            return await connection.ExecuteScalarAsync<long>(sql);
        }

        async Task<string> ScalarText(string sql)
        {
            await using var connection = await db.OpenConnectionAsync();
            return (await connection.ExecuteScalarAsync<string>(sql))!;
        }

        async Task Execute(string sql)
        {
            await using var connection = await db.OpenConnectionAsync();
            await connection.ExecuteAsync(sql);
        }
    }
}
