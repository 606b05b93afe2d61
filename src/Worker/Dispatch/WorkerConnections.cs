using Microsoft.Extensions.Options;
using Npgsql;

namespace RappelRdv.Worker.Dispatch;

/// <summary>
/// What a Worker may open at most, pool by pool, from its settings (docs/OPERATIONS.md, "PostgreSQL
/// sizing", gives the same formulas for N processes):
/// <list type="bullet">
/// <item>the data source: <c>Dispatch__Slices × (Dispatch__Groups + 2)</c> (each group of sends holds one
/// connection while Twilio answers its sends; each loop one to claim, one to reconcile) <c>+ 4</c> (events'
/// claims and give-backs, the RDV-Solidarités write-backs' claims, the tick's housekeeping, the retention and
/// statistics jobs, the rate's takes:
/// each a few statements, they wait for one another rather than widen the pool);</item>
/// <item>the send starts: <c>clamp(slots ÷ 4, 2, 8)</c> (the start records, one group insert at a time, and the
/// budgets' reservations, a few statements each);</item>
/// <item>Hangfire: <c>Hangfire__WorkerCount + 6</c> (its workers and its own background processes);</item>
/// <item>the Worker's number (<see cref="Hosting.WorkerPresence"/>): 1, outside the pools, for its life.</item>
/// </list>
/// With the defaults (1 loop of 128 send slots in 8 groups, 2 Hangfire workers) that is 14 + 8 + 8 + 1 = 31, and
/// 1 Api (20 + 5 + its tenant listener = 26) with 2 Workers open at most 88: within PostgreSQL's default
/// 100 less its 3 reserved connections.
/// </summary>
internal sealed record WorkerConnections(int DataSource, int SendStarts, int Hangfire)
{
    public const int HangfireBackground = 6;

    /// <summary>The session that holds the Worker's number (<see cref="Hosting.WorkerPresence"/>).</summary>
    public const int Presence = 1;

    public int Total => DataSource + SendStarts + Hangfire + Presence;

    public static WorkerConnections For(DispatchOptions dispatch, int hangfireWorkers) =>
        new(dispatch.Slices * (dispatch.Groups + 2) + 4, Math.Clamp(dispatch.SendSlots / 4, 2, 8), hangfireWorkers + HangfireBackground);

    /// <summary>
    /// Null when the connection string leaves the data source's pool to us or gives it enough; else the
    /// start-up error, naming the settings to change.
    /// </summary>
    public string? CheckAgainst(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!Reminders.Database.Database.SetsPoolSize(connectionString) || builder.MaxPoolSize >= DataSource)
        {
            return null;
        }

        return $"ConnectionStrings__Postgres sets Maximum Pool Size={builder.MaxPoolSize}, below the {DataSource} connections this Worker's "
            + "sends need (Dispatch__Slices × (Dispatch__Groups + 2) + 4): raise Maximum Pool Size, or lower Dispatch__Slices or "
            + "Dispatch__Groups (or leave Maximum Pool Size out: the Worker then sizes its pool itself).";
    }

    /// <summary>
    /// The start-up check: a connection string whose pool cannot hold this Worker's sends stops the start with
    /// <see cref="CheckAgainst"/>'s message (the sizes and the settings to change), not a generic one.
    /// </summary>
    public sealed class FitCheck(Func<string> connectionString, Func<int> hangfireWorkers) : IValidateOptions<DispatchOptions>
    {
        public ValidateOptionsResult Validate(string? name, DispatchOptions options) =>
            For(options, hangfireWorkers()).CheckAgainst(connectionString()) is { } problem
                ? ValidateOptionsResult.Fail($"{problem} See docs/OPERATIONS.md, \"PostgreSQL sizing\".")
                : ValidateOptionsResult.Success;
    }
}
