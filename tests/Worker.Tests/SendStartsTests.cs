using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RappelRdv.Reminders.Twilio;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Dispatch;

namespace RappelRdv.Worker.Tests;

/// <summary>
/// The start records of sends leaving together are committed as one group (<see cref="SendStarts"/>):
/// "recorded before it leaves" must hold for every send of a group, through a group that fails and a
/// crash between a group's commit and its requests.
/// </summary>
public sealed class SendStartsTests(DispatchHarness harness) : IClassFixture<DispatchHarness>, IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Lease = new DispatchOptions().ClaimLease;
    private static readonly string[] Phones = ["06 11 11 11 11", "06 22 22 22 22", "06 33 33 33 33", "06 44 44 44 44"];

    public Task InitializeAsync() => harness.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task DueNowAsync(int count)
    {
        var (tenantId, settings) = await harness.TenantAsync();
        for (var i = 0; i < count; i++)
        {
            await harness.DueNowAsync(tenantId, settings, $"rdv-{i}", Phones[i]);
        }
    }

    private Task<long> CountAsync(string where) => harness.ScalarAsync<long>($"select count(*) from messages where {where}");

    [Fact]
    public async Task Starts_recorded_together_are_one_row_each_and_a_repeated_start_keeps_the_first()
    {
        await DueNowAsync(3);
        await using var connection = await harness.Database.DataSource.OpenConnectionAsync();
        var claims = (await connection.QueryAsync<(Guid Id, Guid Token)>(
            "update messages set status = 'sending', claim_token = gen_random_uuid(), claimed_at = @now returning id, claim_token",
            new { now = harness.Clock.GetUtcNow() })).AsList();
        var starts = harness.BuildServices().GetRequiredService<SendStarts>();
        var first = harness.Clock.GetUtcNow();

        await Task.WhenAll(claims.Select(c => starts.RecordAsync(c.Id, c.Token, first)));
        // A retry of a request Twilio refused records its start again: the first one stays.
        await starts.RecordAsync(claims[0].Id, claims[0].Token, first.AddSeconds(5));

        var rows = (await connection.QueryAsync<(Guid Id, Guid Token, DateTime StartedAt)>(
            "select message_id, claim_token, started_at from message_sends")).AsList();
        Assert.Equal(claims.OrderBy(c => c.Id), rows.Select(r => (r.Id, r.Token)).OrderBy(c => c.Id));
        Assert.All(rows, r => Assert.Equal(first.UtcDateTime, r.StartedAt, TimeSpan.FromMilliseconds(1)));
    }

    [Fact]
    public async Task A_group_whose_commit_fails_sends_none_of_its_messages_and_recovery_gives_them_back()
    {
        await DueNowAsync(3);
        // PostgreSQL refuses every start record, as it would a full disk's.
        await using (var connection = await harness.Database.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync(
                """
                create function refuse_starts() returns trigger language plpgsql as $$ begin raise exception 'refused by the test'; end $$;
                create trigger refuse_starts before insert on message_sends for each statement execute function refuse_starts();
                """);
        }

        var dispatcher = harness.BuildServices(new() { ["Dispatch:Parallelism"] = "4" }).GetRequiredService<Dispatcher>();
        Assert.Equal(3, await dispatcher.DispatchDueAsync(None, maxClaims: 3));

        Assert.Equal(0, harness.Twilio.Received);
        Assert.Equal(0, await harness.ScalarAsync<long>("select count(*) from message_sends"));
        Assert.Equal(3, await CountAsync("status = 'sending'"));

        await using (var connection = await harness.Database.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("drop trigger refuse_starts on message_sends; drop function refuse_starts()");
        }

        // No record of a start: recovery gives them back without asking Twilio, and they leave once each.
        harness.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(3, await dispatcher.RecoverAsync(None));
        Assert.Equal(0, harness.Twilio.ListRequests);
        await dispatcher.DispatchDueAsync(None);

        Assert.Equal(3, harness.Twilio.Messages.Count);
        Assert.Equal(3, harness.Twilio.Messages.Select(m => m["To"]).Distinct().Count());
        Assert.Equal(3, await CountAsync("status = 'sent'"));
    }

    [Fact]
    public async Task A_crash_after_a_groups_commit_is_reconciled_whether_or_not_each_request_had_left_and_none_is_sent_twice()
    {
        await DueNowAsync(4);
        var services = harness.BuildServices();
        var starts = services.GetRequiredService<SendStarts>();
        var twilio = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<TwilioOptions>>().Value;
        var now = harness.Clock.GetUtcNow();

        // What a Worker killed just after a group's commit leaves: four claims, their starts committed together;
        // the requests of the first two had reached Twilio, the last two had not left yet.
        await using var connection = await harness.Database.DataSource.OpenConnectionAsync();
        var claims = (await connection.QueryAsync<(Guid Id, Guid Token, string Phone)>(
            """
            update messages m set status = 'sending', claim_token = gen_random_uuid(), claimed_at = @now, body = 'Rappel ' || a.external_id
            from appointments a where a.id = m.appointment_id
            returning m.id, m.claim_token, a.phone
            """,
            new { now })).OrderBy(c => c.Phone).ToList();
        await Task.WhenAll(claims.Select(c => starts.RecordAsync(c.Id, c.Token, now)));
        Assert.Equal(4, await harness.ScalarAsync<long>("select count(*) from message_sends"));
        using (var http = new HttpClient())
        {
            http.DefaultRequestHeaders.Authorization = new("Basic",
                Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes($"{FakeTwilio.AccountSid}:{FakeTwilio.AuthToken}")));
            foreach (var c in claims.Take(2))
            {
                var body = await connection.ExecuteScalarAsync<string>("select body from messages where id = @Id", new { c.Id });
                using var created = await http.PostAsync($"{harness.Twilio.BaseUrl}/2010-04-01/Accounts/{FakeTwilio.AccountSid}/Messages.json",
                    new FormUrlEncodedContent(new Dictionary<string, string> { ["To"] = c.Phone, ["From"] = "+33700000000", ["Body"] = body! }));
                created.EnsureSuccessStatusCode();
            }
        }

        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();
        harness.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        // The two Twilio lists are ours, with Twilio's SIDs; the two it does not list may still be held queued: they wait.
        Assert.Equal(2, await dispatcher.RecoverAsync(None));
        await dispatcher.DispatchDueAsync(None);
        Assert.Equal(2, harness.Twilio.Messages.Count);
        Assert.Equal(2, await CountAsync("status = 'sent' and provider_id is not null"));
        Assert.Equal(2, await CountAsync("status = 'sending'"));

        // Past Twilio's validity period they were surely never there: back to pending, and sent once.
        harness.Clock.Advance(twilio.ValidityPeriod + Lease);
        Assert.Equal(2, await dispatcher.RecoverAsync(None));
        await dispatcher.DispatchDueAsync(None);

        Assert.Equal(4, harness.Twilio.Messages.Count);
        Assert.Equal(claims.Select(c => c.Phone).Order(), harness.Twilio.Messages.Select(m => m["To"]).Order());
        Assert.Equal(4, await CountAsync("status = 'sent'"));
        Assert.Equal(0, await harness.ScalarAsync<long>("select count(*) from message_sends"));
    }
}
