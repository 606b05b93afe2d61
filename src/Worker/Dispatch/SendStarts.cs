using System.Collections.Concurrent;
using Npgsql;
using RappelRdv.Reminders.Messages;

namespace RappelRdv.Worker.Dispatch;

/// <summary>
/// Where a send records that its request is leaving for Twilio (<see cref="MessageStates.MarkStartedAsync"/>).
/// The one exception to "one NpgsqlDataSource": that commit is made while the send holds a
/// connection of the main pool (its transaction keeps the message locked), and a second connection
/// taken from the same pool by every send at once can starve it — each send holding one connection
/// and waiting for another. A small pool of its own, whose connections are held for one insert
/// and never wait for anything else, cannot deadlock. A budget's reservation
/// (<see cref="Reminders.Budgets.BudgetRules.MaySendAsync"/>) is made here too, for the same reason: it
/// commits while the send holds its locks, and waits only on other reservations of a few statements.
/// <para>
/// <b>Start records are written in groups</b> (issue 28). Each used to be its own insert and its own
/// commit, the second durable commit of every message: at a thousand sends a second, a thousand
/// more disk flushes. Now the starts that arrive while a group is being written wait, and go in
/// together as the next group: one statement, one commit. A lone send is written at once; a busy
/// Worker writes a few per commit. <b>Each send waits for its group's commit before its request
/// leaves</b>, so "recorded before it leaves" holds exactly as before: a group whose commit fails
/// fails every send of it, and none of them leaves (each is then settled as a claim never started,
/// or by recovery, which finds no record). A crash after the commit and before the requests leaves
/// records of sends that may or may not have left: recovery asks Twilio about each, as it always
/// did for a send recorded as started.
/// </para>
/// </summary>
internal sealed class SendStarts(NpgsqlDataSource db) : IAsyncDisposable
{
    /// <summary>Most starts one statement writes; more wait for the next group.</summary>
    internal const int MaxGroup = 256;

    private readonly ConcurrentQueue<Start> queue = new();
    private readonly SemaphoreSlim writer = new(1, 1);

    public static SendStarts Create(string connectionString, int maxPoolSize)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = maxPoolSize };
        builder.ApplicationName = string.IsNullOrEmpty(builder.ApplicationName) ? "send-starts" : $"{builder.ApplicationName} send-starts";
        // As the main data source (Database.AddRappelDatabase): nothing here leaves session state behind,
        // and a reset on every return was one more statement per send.
        if (!connectionString.Contains("No Reset On Close", StringComparison.OrdinalIgnoreCase))
        {
            builder.NoResetOnClose = true;
        }

        return new SendStarts(NpgsqlDataSource.Create(builder.ConnectionString));
    }

    /// <summary>Where budgets' holds are committed, beside the send's own transaction.</summary>
    public NpgsqlDataSource Holds => db;

    /// <summary>
    /// Returns once this send's start is committed, in a group with the others leaving now; throws
    /// when its group could not be written (then the request must not leave).
    /// </summary>
    public Task RecordAsync(Guid messageId, Guid claimToken, DateTimeOffset now)
    {
        var start = new Start(messageId, claimToken, now);
        queue.Enqueue(start);
        if (writer.Wait(0))
        {
            _ = Task.Run(WriteGroupsAsync);
        }

        return start.Committed.Task;
    }

    /// <summary>Writes groups until the queue is empty; one writer at a time, so the next group fills meanwhile.</summary>
    private async Task WriteGroupsAsync()
    {
        while (true)
        {
            var group = new List<Start>();
            while (group.Count < MaxGroup && queue.TryDequeue(out var start))
            {
                group.Add(start);
            }

            if (group.Count > 0)
            {
                await WriteAsync(group);
                continue;
            }

            writer.Release();
            // A start queued after the last look and before the release found the writer busy: take it now.
            if (queue.IsEmpty || !writer.Wait(0))
            {
                return;
            }
        }
    }

    private async Task WriteAsync(List<Start> group)
    {
        try
        {
            await MessageStates.MarkStartedAsync(db,
                [.. group.Select(s => s.MessageId)], [.. group.Select(s => s.ClaimToken)], [.. group.Select(s => s.StartedAt)]);
        }
        catch (Exception e)
        {
            // Not known to be committed: none of the group leaves. A commit that did happen only makes
            // recovery ask Twilio about sends that never left, which it finds unlisted.
            foreach (var start in group)
            {
                start.Committed.TrySetException(e);
            }

            return;
        }

        foreach (var start in group)
        {
            start.Committed.TrySetResult();
        }
    }

    public ValueTask DisposeAsync() => db.DisposeAsync();

    private sealed record Start(Guid MessageId, Guid ClaimToken, DateTimeOffset StartedAt)
    {
        // Completed off the writer's thread: a send's request must not run on (and hold) the writer.
        public TaskCompletionSource Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
