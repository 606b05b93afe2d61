using Dapper;
using RappelRdv.TestSupport;

namespace RappelRdv.Api.Tests;

/// <summary>Every row of every table of the service (and of Hangfire's schema): equal before and after means nothing changed.</summary>
internal static class DatabaseSnapshot
{
    public static async Task<string> TakeAsync(PostgresDatabase database)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        var tables = await connection.QueryAsync<string>(
            """
            select format('%I.%I', table_schema, table_name) from information_schema.tables
            where table_schema in ('public', 'hangfire') and table_type = 'BASE TABLE'
            order by 1
            """);
        var parts = new List<string>();
        foreach (var table in tables)
        {
            parts.Add(table + "=" + await connection.QuerySingleAsync<string>(
                $"select coalesce(json_agg(t.x order by t.x)::text, '') from (select row_to_json(r)::text as x from {table} r) t"));
        }

        return string.Join("\n", parts);
    }
}
