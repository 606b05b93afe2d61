// Seeds one tenant with a month (November 2026) of 1,000,000 sent messages (SMS, answered calls
// with durations), written through the usage trigger like any send, then times GET /v1/usage and
// GET /v1/admin/usage through the real Api host, against counting the same month straight from
// messages; then measures what the trigger adds to the writes of the send path (one message
// becoming sent, alone and from 16 connections at once) and of intake (pending messages created),
// and what the Worker's budget and pause check costs a send. Prints Markdown for docs/BENCHMARKS.md.
//
//   ConnectionStrings__Postgres=… dotnet run -c Release --project bench/Usage -- [--messages 1000000] [--repeats 200]
//
// It creates and drops its own database (rappel_bench_usage) on that server.

using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Dapper;
using Npgsql;
using RappelRdv.Contracts;

namespace RappelRdv.Bench.Usage;

internal static class UsageBench
{
    public static async Task<int> Main(string[] args)
    {
        var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
        Console.SetOut(TextWriter.Null);
        var messages = BenchTools.Option(args, "--messages", 1_000_000);
        var repeats = BenchTools.Option(args, "--repeats", 200);
        var server = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
            ?? throw new InvalidOperationException("Set ConnectionStrings__Postgres to a PostgreSQL server (the bench creates its own database there).");
        const string database = "rappel_bench_usage";
        const string adminKey = "bench-admin-key-0123456789abcdef0123456789";
        var connectionString = await BenchTools.FreshDatabaseAsync(server, database);
        await using var host = new BenchHost(connectionString, adminKey,
            new Dictionary<string, string> { ["Billing:SmsSegmentPrice"] = "0.0725", ["Billing:CallMinutePrice"] = "0.16" });
        using var operatorClient = host.CreateClient();
        operatorClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        var created = await operatorClient.PostAsJsonAsync("/v1/admin/tenants",
            new { slug = "bench", name = "Bench", budget = new { monthlySegments = 2_000_000, monthlyCallMinutes = 500_000 } });
        created.EnsureSuccessStatusCode();
        var keys = (await created.Content.ReadFromJsonAsync<TenantKeys>())!;
        for (var i = 0; i < 100; i++)
        {
            (await operatorClient.PostAsJsonAsync("/v1/admin/tenants", new { slug = $"dept-{i:D3}", name = $"Département {i}" })).EnsureSuccessStatusCode();
        }

        using var manager = host.CreateClient();
        manager.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", keys.ManagerKey);
        await using var db = NpgsqlDataSource.Create(connectionString);

        output.WriteLine($"Seeding {messages:N0} sent messages in November 2026 (through the usage trigger)...");
        var seed = Stopwatch.StartNew();
        await using (var connection = await db.OpenConnectionAsync())
        {
            // Ten messages per appointment; 85 % SMS of 1 or 2 segments, 15 % answered calls of 10 s to 5 min.
            await connection.ExecuteAsync(
                """
                insert into appointments (tenant_id, external_id, starts_at, duration_minutes, status, phone_is_mobile, channel, mode,
                    holdout, content_hash, created_at, updated_at)
                select t.id, 'b-' || g, timestamptz '2026-11-01 08:00+00' + (g % 29) * interval '1 day', 30, 'scheduled', true, 'sms',
                       'in_person', false, '\x00', now(), now()
                from tenants t, generate_series(1, @appointments) g where t.slug = 'bench'
                """,
                new { appointments = messages / 10 }, commandTimeout: 3600);
            // In statements of 200 appointments (2,000 messages), as sends come one transaction at a time: in one huge
            // statement every counter row would be updated thousands of times in one transaction, each update walking
            // the versions left by the previous ones (see 0010_usage.sql).
            var first = await connection.ExecuteScalarAsync<long>("select min(id) from appointments");
            for (var from = first; from < first + messages / 10; from += 200)
            {
                await connection.ExecuteAsync(
                    """
                    insert into messages (id, appointment_id, tenant_id, kind, channel, plan_version, due_at, status, sent_at, delivered_at,
                        segments, call_seconds, created_at, updated_at)
                    select gen_random_uuid(), a.id, a.tenant_id, (array['reminder', 'reminder', 'reminder', 'confirmation', 'change', 'cancellation'])[1 + k % 6],
                           case when k % 7 = 0 then 'voice' else 'sms' end, 1, sent, 'delivered', sent, sent,
                           case when k % 7 = 0 then null else 1 + (k % 5 = 0)::int end,
                           case when k % 7 = 0 then 10 + (a.id * 31 + k * 17) % 290 end, sent, sent
                    from appointments a, generate_series(0, 9) k,
                         lateral (select timestamptz '2026-11-01 00:00+00' + ((a.id * 10 + k) % 2592000) * interval '1 second') s(sent)
                    where a.id >= @from and a.id < @from + 200
                    """,
                    new { from },
                    commandTimeout: 3600);
            }

            await connection.ExecuteAsync("vacuum analyze messages, usage_counters", commandTimeout: 3600);
        }

        seed.Stop();
        var counterRows = await Scalar(db, "select count(*) from usage_counters");
        var counted = await Scalar(db, "select sum(messages) + sum(calls) from usage_counters");
        output.WriteLine($"Seeded in {seed.Elapsed.TotalSeconds:F1} s; {counted:N0} counted in {counterRows:N0} rows of usage_counters.");

        var tenant = await BenchTools.TimeAsync(repeats, async () =>
        {
            using var response = await manager.GetAsync("/v1/usage?month=2026-11");
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsByteArrayAsync();
        });
        var everyone = await BenchTools.TimeAsync(repeats, async () =>
        {
            using var response = await operatorClient.GetAsync("/v1/admin/usage?month=2026-11");
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsByteArrayAsync();
        });
        var csv = await BenchTools.TimeAsync(repeats, async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/admin/usage?month=2026-11");
            request.Headers.Accept.ParseAdd("text/csv");
            using var response = await operatorClient.SendAsync(request);
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsByteArrayAsync();
        });
        var scan = await BenchTools.TimeAsync(5, async () =>
        {
            await using var connection = await db.OpenConnectionAsync();
            await connection.QueryAsync(
                """
                select channel, kind, count(*), sum(segments), sum(ceil(call_seconds / 60.0))
                from messages
                where tenant_id = (select id from tenants where slug = 'bench') and status in ('sent', 'delivered')
                  and coalesce(sent_at, updated_at) >= '2026-11-01 00:00+00' and coalesce(sent_at, updated_at) < '2026-12-01 00:00+00'
                group by 1, 2
                """,
                commandTimeout: 600);
        }, warmup: 1);

        // The send path: one message becoming sent, as the Worker writes it, with and without the trigger, in
        // alternating rounds (this machine is shared: a single pair would mostly measure what else ran meanwhile).
        await PendingAsync(db, 44_000);
        var rounds = new List<(bool Trigger, Summary Alone, double Together)>();
        for (var round = 0; round < 4; round++)
        {
            var trigger = round % 2 == 0;
            await Execute(db, $"alter table messages {(trigger ? "enable" : "disable")} trigger messages_usage_update");
            var alone = await UpdatesAsync(db, 1_000, parallel: 1);
            var together = await UpdatesAsync(db, 10_000, parallel: 16);
            rounds.Add((trigger, alone.Summary, together.PerSecond));
        }

        await Execute(db, "alter table messages enable trigger messages_usage_update");

        // Intake: pending messages created (the WHEN clause is false for them), with and without the trigger.
        var intake = await IntakeAsync(db, 5);
        await Execute(db, "alter table messages disable trigger messages_usage_insert");
        var intakeWithout = await IntakeAsync(db, 5);
        await Execute(db, "alter table messages enable trigger messages_usage_insert");

        // What the Worker's SendGate reads before each send of a tenant with a budget: the pause, the month's segments.
        var gate = await BenchTools.TimeAsync(1000, async () =>
        {
            await using var connection = await db.OpenConnectionAsync();
            await connection.ExecuteScalarAsync<DateTime?>("select paused_until from twilio_account where paused_until > now()");
            await connection.ExecuteScalarAsync<long>(
                "select coalesce(sum(segments), 0)::bigint from usage_counters where tenant_id = (select id from tenants where slug = 'bench') " +
                "and month = '2026-11-01'::date and channel = 'sms'");
        });

        var version = await ScalarText(db, "select version()");
        output.WriteLine();
        output.WriteLine($"{messages:N0} messages sent in November 2026 by one tenant, 100 other tenants; {Environment.ProcessorCount} cores; {version.Split(',')[0]}.");
        output.WriteLine($"Seed (INSERT … SELECT of 2,000 messages at a time, through the row trigger): {seed.Elapsed.TotalSeconds:F1} s, {counterRows:N0} rows of usage_counters.");
        output.WriteLine();
        output.WriteLine($"| Read ({repeats} runs after 20 warm-up) | p50 ms | p95 ms | max ms |");
        output.WriteLine("|---|---:|---:|---:|");
        output.WriteLine($"| `GET /v1/usage?month=2026-11` (the tenant with {messages:N0} messages) | {tenant.P50:F1} | {tenant.P95:F1} | {tenant.Max:F1} |");
        output.WriteLine($"| `GET /v1/admin/usage?month=2026-11` (101 tenants) | {everyone.P50:F1} | {everyone.P95:F1} | {everyone.Max:F1} |");
        output.WriteLine($"| the same as CSV (`Accept: text/csv`) | {csv.P50:F1} | {csv.P95:F1} | {csv.Max:F1} |");
        output.WriteLine($"| without counters: the month summed straight from `messages` (5 runs) | {scan.P50:F1} | {scan.P95:F1} | {scan.Max:F1} |");
        output.WriteLine();
        output.WriteLine("| Write, in alternating rounds | usage trigger | one message set `sent`, one connection (1,000), p50 / p95 ms | set `sent` by 16 connections at once (10,000, one tenant), per second |");
        output.WriteLine("|---|---|---:|---:|");
        for (var i = 0; i < rounds.Count; i++)
        {
            var (trigger, alone, together) = rounds[i];
            output.WriteLine($"| round {i + 1} | {(trigger ? "on" : "off")} | {alone.P50:F2} / {alone.P95:F2} | {together:N0} |");
        }

        output.WriteLine();
        output.WriteLine($"Intake, 10,000 pending messages in one INSERT (5 runs, rolled back), p50: {intake.P50:F1} ms with the trigger, {intakeWithout.P50:F1} ms without.");
        output.WriteLine();
        output.WriteLine($"SendGate's reads before a send of a budgeted tenant (1,000 runs, a pooled connection each): p50 {gate.P50:F2} ms, p95 {gate.P95:F2} ms.");

        await BenchTools.DropDatabaseAsync(server, database);
        return 0;
    }

    /// <summary>Pending SMS of the bench tenant, in December, for the update runs to send.</summary>
    private static Task PendingAsync(NpgsqlDataSource db, int count) => Execute(db,
        $"""
        insert into messages (id, appointment_id, tenant_id, kind, channel, plan_version, due_at, status, created_at, updated_at)
        select gen_random_uuid(), (select min(id) from appointments) + g % 1000, (select id from tenants where slug = 'bench'), 'reminder', 'sms',
               1, timestamptz '2026-12-01 09:00+00', 'pending', now(), now()
        from generate_series(1, {count}) g
        """);

    /// <summary>Sends (sets sent) <paramref name="count"/> pending messages, one per transaction, from <paramref name="parallel"/> connections.</summary>
    private static async Task<(Summary Summary, double PerSecond)> UpdatesAsync(NpgsqlDataSource db, int count, int parallel)
    {
        var ids = new Queue<Guid>(await Query<Guid>(db, $"select id from messages where status = 'pending' limit {count}"));
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, parallel), async (_, _) =>
        {
            await using var connection = await db.OpenConnectionAsync();
            while (true)
            {
                Guid id;
                lock (ids)
                {
                    if (!ids.TryDequeue(out id))
                    {
                        return;
                    }
                }

                var watch = Stopwatch.StartNew();
                await using var transaction = await connection.BeginTransactionAsync();
                await connection.ExecuteAsync(
                    """
                    update messages set status = 'sent', sent_at = timestamptz '2026-12-01 09:00:01+00', provider_id = 'SM' || replace(id::text, '-', ''),
                        segments = 1, error = null, claim_token = null, updated_at = now()
                    where id = @id
                    """,
                    new { id }, transaction);
                await transaction.CommitAsync();
                lock (times)
                {
                    times.Add(watch.Elapsed.TotalMilliseconds);
                }
            }
        });
        total.Stop();
        return (BenchTools.Summarize(times), count / total.Elapsed.TotalSeconds);
    }

    private static async Task<Summary> IntakeAsync(NpgsqlDataSource db, int runs) =>
        await BenchTools.TimeAsync(runs, async () =>
        {
            await using var connection = await db.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await connection.ExecuteAsync(
                """
                insert into messages (id, appointment_id, tenant_id, kind, channel, plan_version, due_at, status, created_at, updated_at)
                select gen_random_uuid(), (select min(id) from appointments) + g % 1000, (select id from tenants where slug = 'bench'), 'reminder',
                       'sms', 1, timestamptz '2026-12-02 09:00+00', 'pending', now(), now()
                from generate_series(1, 10000) g
                """, transaction: transaction);
            // Rolled back: every run inserts into the same table, not a growing one.
            await transaction.RollbackAsync();
        }, warmup: 1);

    private static async Task<long> Scalar(NpgsqlDataSource db, string sql)
    {
        await using var connection = await db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(sql);
    }

    private static async Task<string> ScalarText(NpgsqlDataSource db, string sql)
    {
        await using var connection = await db.OpenConnectionAsync();
        return (await connection.ExecuteScalarAsync<string>(sql))!;
    }

    private static async Task<List<T>> Query<T>(NpgsqlDataSource db, string sql)
    {
        await using var connection = await db.OpenConnectionAsync();
        return (await connection.QueryAsync<T>(sql)).AsList();
    }

    private static async Task Execute(NpgsqlDataSource db, string sql)
    {
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync(sql, commandTimeout: 3600);
    }
}
