using System.Collections.Concurrent;
using Dapper;
using Npgsql;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Api.Tenants;

/// <summary>
/// The tenants this Api authenticated lately, so that a request does not pay a database round trip
/// to check its key. Safe only while <see cref="TenantChangeListener"/> hears every change: each
/// update or delete of a tenant notifies <c>tenant_changed</c> when it commits (migration 0005),
/// and the entry is forgotten. While the listener is not connected, nothing is served from here.
/// </summary>
internal sealed class TenantCache(NpgsqlDataSource db, TimeProvider clock)
{
    /// <summary>A safety net: even a change that was somehow not heard stops counting after this.</summary>
    public static readonly TimeSpan TimeToLive = TimeSpan.FromSeconds(60);

    /// <summary>How long a key that matched nothing is answered from memory: a flood of wrong keys costs no query each.</summary>
    public static readonly TimeSpan UnknownKeyTimeToLive = TimeSpan.FromSeconds(10);

    /// <summary>Bounds the memory a caller can fill with made-up keys; past it, the list starts again.</summary>
    public const int MaxUnknownKeys = 10_000;

    private readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);

    // By the hash of the whole key: keys are 256-bit random values, so a key that was wrong a moment
    // ago cannot have become right (a rotation makes new keys, it never revives a tried one).
    private readonly ConcurrentDictionary<string, DateTimeOffset> unknownKeys = new(StringComparer.Ordinal);
    private long generation;
    private volatile bool listening;

    /// <summary>A tenant with its settings parsed, once per read of the database, and the hashes of its keys.</summary>
    internal sealed record KnownTenant(Tenant Tenant, byte[] ApiKeyHash, byte[] ManagerKeyHash);

    private sealed record KeyRow(long Id, string Name, string Settings, string WebhookSecret, byte[] ApiKeyHash, byte[] ManagerKeyHash, byte[] HistoryKey);

    private sealed record Entry(KnownTenant Known, DateTimeOffset Expires);

    /// <summary>
    /// The tenant whose key this is, or null. A key that does not match what is cached is checked
    /// again against the database: it may be a key just rotated by another Api.
    /// </summary>
    public Task<KnownTenant?> FindAsync(string slug, Func<KnownTenant, bool> matches, CancellationToken cancellationToken) =>
        FindAsync(slug, key: null, matches, cancellationToken);

    /// <summary>
    /// The same, for a presented key: a key that matched nothing is remembered briefly, so that a flood
    /// of bad keys costs no query each. A check without a key (a session's e-mail or stamp) is not.
    /// </summary>
    public async Task<KnownTenant?> FindAsync(string slug, string? key, Func<KnownTenant, bool> keyMatches, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (listening && entries.TryGetValue(slug, out var entry) && entry.Expires > now && keyMatches(entry.Known))
        {
            return entry.Known;
        }

        var keyHash = key is null ? null : Convert.ToBase64String(TenantSecrets.Hash(key));
        if (keyHash is not null && unknownKeys.TryGetValue(keyHash, out var unknownUntil) && unknownUntil > now)
        {
            return null;
        }

        // A change heard while we read makes what we read suspect: then it is used once, not kept.
        var before = Interlocked.Read(ref generation);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<KeyRow>(
            "select id, name, settings::text as settings, webhook_secret, api_key_hash, manager_key_hash, history_key from tenants where slug = @slug",
            new { slug });
        var known = row is null ? null : new KnownTenant(
            new Tenant(row.Id, slug, row.Name, TenantSettings.FromJson(row.Settings) with { HistoryKey = row.HistoryKey }, row.WebhookSecret), row.ApiKeyHash, row.ManagerKeyHash);
        if (known is null || !keyMatches(known))
        {
            if (keyHash is null)
            {
                return null;
            }

            // Remembered briefly, and only so many: a caller cannot fill the memory with them.
            if (unknownKeys.Count >= MaxUnknownKeys)
            {
                unknownKeys.Clear();
            }

            unknownKeys[keyHash] = now + UnknownKeyTimeToLive;
            return null;
        }

        if (listening && Interlocked.Read(ref generation) == before)
        {
            entries[slug] = new Entry(known, clock.GetUtcNow() + TimeToLive);
        }

        return known;
    }

    /// <summary>This tenant changed (or may have): the next request reads it again.</summary>
    public void Forget(string slug)
    {
        Interlocked.Increment(ref generation);
        if (slug.Length == 0)
        {
            entries.Clear();   // the table was truncated
        }
        else
        {
            entries.TryRemove(slug, out _);
        }
    }

    /// <summary>Whether changes are heard; when they stop being heard, everything known is forgotten.</summary>
    public void SetListening(bool value)
    {
        Interlocked.Increment(ref generation);
        listening = value;
        if (!value)
        {
            entries.Clear();
        }
    }
}

/// <summary>
/// Listens to <c>tenant_changed</c> and keeps <see cref="TenantCache"/> honest. Its connection is its
/// own, outside the pool (a pooled one would go back still listening), and names itself
/// <c>… tenant-listener</c> in <c>pg_stat_activity</c>.
/// </summary>
internal sealed class TenantChangeListener(IConfiguration configuration, TenantCache cache, ILogger<TenantChangeListener> logger)
    : BackgroundService
{
    public const string Channel = "tenant_changed";

    // A connection that died quietly is found by this ping, within this delay.
    private static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(15);

    // A LISTEN needs a session that stays: never through a transaction pooler.
    private readonly string connectionString = ListenerConnectionString(Database.GetDirectConnectionString(configuration));

    private static string ListenerConnectionString(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        builder.ApplicationName = $"{builder.ApplicationName ?? "rappel-api"} tenant-listener";
        return builder.ConnectionString;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retryDelay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, e) => cache.Forget(e.Payload);
                await connection.ExecuteAsync($"listen {Channel}");
                cache.SetListening(true);
                retryDelay = TimeSpan.FromSeconds(1);
                while (!stoppingToken.IsCancellationRequested)
                {
                    if (!await connection.WaitAsync(PingInterval, stoppingToken))
                    {
                        await connection.ExecuteAsync("select 1");
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Not hearing tenant changes (retry in {Delay}); tenants are read on every request meanwhile", retryDelay);
            }
            finally
            {
                cache.SetListening(false);
            }

            try
            {
                await Task.Delay(retryDelay, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
        }
    }
}
