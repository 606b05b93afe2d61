using Dapper;
using Npgsql;
using RappelRdv.Reminders.Database;

namespace RappelRdv.Worker.Hosting;

/// <summary>
/// This Worker's number, held for its whole life: the proof, readable by every other Worker, that the
/// claims stamped with it (<c>claimed_by</c> on messages, events and write-backs) have a live holder.
/// When the process dies, however it dies (SIGKILL, out of memory, its node lost), PostgreSQL ends its
/// session and the lock goes with it; recovery then takes its claims at once rather than after their
/// lease (<see cref="Claimers"/>, docs/ARCHITECTURE.md "A claimer that is gone").
/// <list type="bullet">
/// <item>Its own connection, outside the pools, on <c>ConnectionStrings__PostgresDirect</c> when set: a
/// session advisory lock does not survive a transaction-mode pooler. It shows in
/// <c>pg_stat_activity</c> as <c>… worker-presence</c>.</item>
/// <item>That session asks PostgreSQL to probe the socket (TCP keepalives, 60 s at most): a node that
/// vanishes without closing its connections loses its lock within a minute, not the kernel's two hours.</item>
/// <item>A ping every few seconds finds a dropped connection; the Worker then has no number
/// (<see cref="Number"/> null: its claims carry none and wait for their lease, as before) until it has
/// taken a <b>new</b> one, as soon as the database answers. A number once lost is never held again.</item>
/// </list>
/// Registered before the claim loops, which the host starts one after the other: its start waits (at most
/// <see cref="StartWait"/>) for the first number, so that the loops' first claims carry it; and the host
/// stops services in reverse order, so the lock goes only once the loops have given their claims back.
/// </summary>
internal sealed class WorkerPresence(IConfiguration configuration, TimeProvider clock, ILogger<WorkerPresence> logger) : BackgroundService
{
    // A dropped connection is found within this, then a new number is taken.
    private static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long the host's start waits for the first number. Past it (the direct connection refused while
    /// the pooled one works), the Worker starts anyway: its claims carry no number until one is held.
    /// </summary>
    public static readonly TimeSpan StartWait = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often the events' and the write-backs' loops give back what a gone Worker claimed (the dispatch
    /// loops do it in their recovery, every <c>Dispatch__RecoveryInterval</c>, 15 s by default too).
    /// </summary>
    public static readonly TimeSpan GoneClaimsInterval = TimeSpan.FromSeconds(15);

    private readonly string connectionString = PresenceConnectionString(Database.GetDirectConnectionString(configuration));

    private readonly TaskCompletionSource firstHeld = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // 0: none held.
    private volatile int number;

    /// <summary>The number this Worker holds now, or null (not yet, or its connection dropped and it is taking a new one).</summary>
    public int? Number => number > 0 ? number : null;

    /// <summary>Completes once a number is held for the first time (the tests wait on it).</summary>
    public Task Held => firstHeld.Task;

    private static string PresenceConnectionString(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        builder.ApplicationName = $"{(string.IsNullOrEmpty(builder.ApplicationName) ? "rappel-worker" : builder.ApplicationName)} worker-presence";
        return builder.ConnectionString;
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await base.StartAsync(cancellationToken);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await Task.WhenAny(Held, Task.Delay(StartWait, clock, bounded.Token));
        await bounded.CancelAsync();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(stoppingToken);
                // PostgreSQL probes an idle client after 30 s, every 10 s, 3 times: a vanished node's session ends within a minute.
                await connection.ExecuteAsync("set tcp_keepalives_idle = 30; set tcp_keepalives_interval = 10; set tcp_keepalives_count = 3");
                var taken = await connection.ExecuteScalarAsync<int>(Claimers.NextNumber);
                if (!await connection.ExecuteScalarAsync<bool>(Claimers.Hold, new { number = taken }))
                {
                    throw new InvalidOperationException($"worker number {taken} is held already");
                }

                number = taken;
                firstHeld.TrySetResult();
                logger.LogInformation("Worker number {Number} held: claims of this Worker are given back at once if it dies", taken);
                while (!stoppingToken.IsCancellationRequested)
                {
                    await Task.Delay(PingInterval, clock, stoppingToken);
                    await connection.ExecuteAsync("select 1");
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning("Worker number lost or not taken ({Reason}); claims wait for their lease until a new one is held (retry in {Delay})",
                    e.Message, RetryDelay);
            }
            finally
            {
                number = 0;
            }

            try
            {
                await Task.Delay(RetryDelay, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}
