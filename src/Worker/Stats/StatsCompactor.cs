using Dapper;
using Npgsql;

namespace RappelRdv.Worker.Stats;

/// <summary>
/// Folds the ledger that triggers on appointments write (appointment_stat_changes) into the
/// per-day counts (appointment_stats), every few seconds, so that readers sum a few hundred
/// rows. Readers are exact without it (they add the ledger); it only keeps them fast.
/// </summary>
/// <remarks>
/// Every Worker process runs one (background work, so the Worker's, not the Api's: the Api only
/// reads); an advisory lock lets one fold at a time, the others skip their turn. A run is one transaction per batch: rows leave the ledger and enter the counts together.
/// </remarks>
internal sealed class StatsCompactor(NpgsqlDataSource db, TimeProvider clock, ILogger<StatsCompactor> logger) : BackgroundService
{
    /// <summary>Also taken by the trigger that rebuilds a tenant's counts when its time zone changes (0004_stats.sql).</summary>
    public const long LockKey = 5927486210834421504;

    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private const int BatchSize = 50_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await CompactAsync(stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Folding the statistics ledger failed; trying again in {Interval}", Interval);
            }

            try
            {
                await Task.Delay(Interval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Folds the whole ledger visible now; returns the number of ledger rows folded (0 when another process holds the lock).</summary>
    public async Task<long> CompactAsync(CancellationToken cancellationToken)
    {
        long folded = 0;
        while (true)
        {
            await using var connection = await db.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            // Tenants first: a TRUNCATE ... CASCADE of tenants (the tests' reset) then waits for us,
            // or we for it, instead of each holding a table the other needs.
            await connection.ExecuteAsync("lock table tenants in row share mode", transaction: transaction);
            if (!await connection.ExecuteScalarAsync<bool>("select pg_try_advisory_xact_lock(@LockKey)", new { LockKey }, transaction))
            {
                return folded;
            }

            var moved = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                """
                with batch as (
                    delete from appointment_stat_changes
                    where id in (select id from appointment_stat_changes order by id limit @BatchSize)
                    returning tenant_id, day, service, location_name, channel, confirmed, holdout, language, variant, risk,
                              appointments, honoured, no_show, excused, cancelled
                ),
                expanded as (
                    select tenant_id, 'day' as dimension, day, '' as key, appointments, honoured, no_show, excused, cancelled from batch
                    union all
                    select tenant_id, 'service', day, service, appointments, honoured, no_show, excused, cancelled from batch
                    union all
                    select tenant_id, 'location', day, location_name, appointments, honoured, no_show, excused, cancelled from batch
                    union all
                    select tenant_id, 'channel', day, channel, appointments, honoured, no_show, excused, cancelled from batch
                    union all
                    select tenant_id, 'confirmation', day, case when confirmed then 'confirmed' else 'unconfirmed' end,
                           appointments, honoured, no_show, excused, cancelled from batch
                    union all
                    select tenant_id, 'cohort', day, case when holdout then 'holdout' else 'reminded' end,
                           appointments, honoured, no_show, excused, cancelled from batch
                    union all
                    select tenant_id, 'language', day, language, appointments, honoured, no_show, excused, cancelled from batch
                    union all
                    select tenant_id, 'variant', day, variant, appointments, honoured, no_show, excused, cancelled from batch
                    union all
                    select tenant_id, 'risk', day, risk, appointments, honoured, no_show, excused, cancelled from batch
                ),
                folded as (
                    insert into appointment_stats as s (tenant_id, dimension, day, key, appointments, honoured, no_show, excused, cancelled)
                    select tenant_id, dimension, day, key, sum(appointments), sum(honoured), sum(no_show), sum(excused), sum(cancelled)
                    from expanded
                    group by tenant_id, dimension, day, key
                    on conflict (tenant_id, dimension, day, key) do update set
                        appointments = s.appointments + excluded.appointments,
                        honoured = s.honoured + excluded.honoured,
                        no_show = s.no_show + excluded.no_show,
                        excused = s.excused + excluded.excused,
                        cancelled = s.cancelled + excluded.cancelled
                )
                select count(*) from batch
                """,
                new { BatchSize },
                transaction,
                cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
            folded += moved;
            if (moved < BatchSize)
            {
                return folded;
            }
        }
    }
}
