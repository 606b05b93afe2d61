using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;
using RappelRdv.Reminders.Messages;

namespace RappelRdv.Reminders.Budgets;

/// <summary>
/// When Twilio refuses a send because of the account itself (20003 "permission denied", as a
/// suspended or unfunded account gets, or a refusal that names the funds), every other message
/// would be refused the same way and fail one by one. Instead sending pauses, for every Worker
/// (the pause is a row of <c>twilio_account</c>), the message waits, and the operator is alerted
/// (an error in the logs, <c>rappel_sending_paused</c> in /metrics). Sending resumes when the
/// Worker reads a positive balance again, or after <see cref="MaxPause"/> at the latest: then one
/// send tries again, and pauses again if Twilio still refuses.
/// </summary>
public static class SendingPause
{
    public static readonly TimeSpan MaxPause = TimeSpan.FromMinutes(10);

    /// <summary>How the error of a message waiting for the end of a pause begins: what ends the wait early.</summary>
    private const string PausedReason = "sending paused: ";

    /// <summary>20003: authentication refused (a suspended account); 10001, 20005: account not active; 30002: account suspended (status callback).</summary>
    private static readonly int[] AccountCodes = [10001, 20003, 20005, 30002];

    public static bool IsAccountRefusal(int? code, string? error) =>
        code is { } c && AccountCodes.Contains(c)
        || (error is not null && (error.Contains("insufficient funds", StringComparison.OrdinalIgnoreCase)
            || error.Contains("insufficient balance", StringComparison.OrdinalIgnoreCase)));

    /// <summary>Until when sending is paused (one row, or none), for a caller that reads it beside other statements; takes <c>@now</c>.</summary>
    public const string PausedUntilSql = "select paused_until from twilio_account where paused_until > @now";

    /// <summary>Until when sending is paused, or null.</summary>
    public static Task<DateTime?> PausedUntilAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, DateTimeOffset now) =>
        connection.ExecuteScalarAsync<DateTime?>(PausedUntilSql, new { now }, transaction);

    /// <summary>
    /// Pauses sending and puts the refused message back to wait for the end of the pause (or skips
    /// it, when the appointment would have started by then).
    /// </summary>
    public static async Task PauseAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid messageId, Guid? claimToken, DateTimeOffset startsAt, string error,
        DateTimeOffset now, ILogger logger)
    {
        var until = now + MaxPause;
        await connection.ExecuteAsync(
            """
            insert into twilio_account (id, paused_until, paused_at, pause_reason) values (true, @until, @now, @error)
            on conflict (id) do update set paused_until = greatest(twilio_account.paused_until, @until),
                paused_at = coalesce(case when twilio_account.paused_until > @now then twilio_account.paused_at end, @now),
                pause_reason = @error
            """,
            new { until, now, error }, transaction);
        if (until < startsAt)
        {
            await MessageStates.WaitForPauseAsync(connection, transaction, messageId, claimToken, until, $"{PausedReason}{error}", now);
        }
        else
        {
            await MessageStates.SkipForPauseAsync(connection, transaction, messageId, claimToken, $"too_late: sending paused ({error})", now);
        }

        logger.LogError("Twilio refused a send for the account itself ({Error}): all sending is paused until {Until}", error, until);
    }

    /// <summary>
    /// Ends a pause (the balance is back): the messages it held are due at once rather than at its
    /// planned end. Returns whether one was on.
    /// </summary>
    public static async Task<bool> ResumeAsync(NpgsqlConnection connection, DateTimeOffset now)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        var until = await connection.ExecuteScalarAsync<DateTime?>(
            "select paused_until from twilio_account where paused_until > @now for update", new { now }, transaction);
        if (until is null)
        {
            return false;
        }

        await connection.ExecuteAsync("update twilio_account set paused_until = null, pause_reason = null", transaction: transaction);
        await MessageStates.EndPauseAsync(connection, transaction, PausedReason, until.Value, now);
        await transaction.CommitAsync();
        return true;
    }
}
