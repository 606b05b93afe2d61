namespace RappelRdv.Reminders.Database;

/// <summary>
/// Who holds a claim, and whether it is still there (migration 0019; docs/ARCHITECTURE.md, "A claimer
/// that is gone"). Each Worker takes a number from <c>worker_numbers</c> at start and holds a
/// <b>shared</b> session advisory lock on <c>(<see cref="LockClass"/>, number)</c> for its whole life,
/// on a connection of its own (src/Worker/Hosting/WorkerPresence.cs); a number whose lock was lost is
/// never held again (a new one is taken). Its claims carry the number (<c>claimed_by</c>). Three rules:
/// <list type="bullet">
/// <item>a start record takes the same lock shared for its transaction, then checks that its claim is
/// still its own (<c>MessageStates.MarkStartedAsync</c>);</item>
/// <item>recovery takes a message from a claimer before the lease only under the same lock taken
/// <b>exclusively</b> for its transaction (<see cref="TryTakeOver"/>): granted only when no Worker
/// holds the number and no start record of it is being written; the start records that come later
/// wait for recovery's commit and then find their claim gone;</item>
/// <item>a number's lock, once lost, is never taken again: "gone" stays true.</item>
/// </list>
/// Events and write-backs, delivered at least once, only need <see cref="Gone"/>, read from
/// <c>pg_locks</c>.
/// </summary>
public static class Claimers
{
    /// <summary>The first key of the two-key advisory locks on Worker numbers (the second: the number).</summary>
    public const int LockClass = 29028;

    /// <summary>A new number, never held before (the sequence cycles only after 2³¹ Worker starts).</summary>
    public const string NextNumber = "select nextval('worker_numbers')::int";

    /// <summary>A Worker's presence: its number held shared for the session (true once granted).</summary>
    public static readonly string Hold = $"select pg_try_advisory_lock_shared({LockClass}, @number)";

    /// <summary>
    /// SQL true when <paramref name="column"/> names a claimer whose lock nobody holds (a number no one
    /// holds, in this database: numbers are per database). Reads <c>pg_locks</c>, the lock manager's
    /// table, once per statement: cheap (no disk, a few hundred entries), no lock taken.
    /// </summary>
    public static string Gone(string column) =>
        $"""
        ({column} is not null and not exists (
            select 1 from pg_locks l
            where l.locktype = 'advisory' and l.classid = {LockClass} and l.objsubid = 2 and l.objid = {column}::oid and l.granted
              and l.database = (select oid from pg_database where datname = current_database())))
        """;

    /// <summary>
    /// SQL taking <paramref name="column"/>'s number exclusively for the transaction, without waiting:
    /// true when no Worker holds it and no start record of it is being written, and from then until the
    /// commit none can begin. The proof, under the lock, that a claim's claimer is gone.
    /// </summary>
    public static string TryTakeOver(string column) => $"pg_try_advisory_xact_lock({LockClass}, {column})";

    /// <summary>SQL taking <paramref name="column"/>'s number shared for the transaction: waits while recovery takes one of its claims over.</summary>
    public static string ShareForStart(string column) => $"pg_advisory_xact_lock_shared({LockClass}, {column})";
}
