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
/// </summary>
internal sealed class SendStarts(NpgsqlDataSource db) : IAsyncDisposable
{
    public static SendStarts Create(string connectionString, int maxPoolSize)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = maxPoolSize };
        builder.ApplicationName = string.IsNullOrEmpty(builder.ApplicationName) ? "send-starts" : $"{builder.ApplicationName} send-starts";
        return new SendStarts(NpgsqlDataSource.Create(builder.ConnectionString));
    }

    /// <summary>Where budgets' holds are committed, beside the send's own transaction.</summary>
    public NpgsqlDataSource Holds => db;

    public Task RecordAsync(Guid messageId, Guid claimToken, DateTimeOffset now) => MessageStates.MarkStartedAsync(db, messageId, claimToken, now);

    public ValueTask DisposeAsync() => db.DisposeAsync();
}
