using System.Data.Common;
using Respawn;
using Respawn.Graph;

namespace RappelRdv.TestSupport;

/// <summary>
/// Respawn's PostgreSQL adapter, emptying with <c>delete</c> instead of <c>truncate</c>. Respawn still reads
/// the tables and their foreign keys from the schema and orders them (children first); only the statements
/// differ. A <c>truncate</c> of the product's 14 tables gives each table, index and TOAST table a new file:
/// about 70 ms on an idle 2-core machine and several times that under the suite's load, before every test.
/// Deleting the few rows a test leaves takes about 2 ms.
/// </summary>
internal sealed class DeletingPostgresAdapter : IDbAdapter
{
    /// <summary>Passes over the tables before giving up (see <see cref="BuildDeleteCommandText"/>).</summary>
    private const int MaxPasses = 3;

    private readonly IDbAdapter postgres = DbAdapter.Postgres;

    /// <summary>
    /// One <c>do</c> block: every table in Respawn's order, again while any is not empty. A delete trigger may
    /// write to a table already emptied (deleting appointments records a change in the stats' change log, which
    /// refers to the tenant), so a table whose rows are still referenced is left for the next pass rather than
    /// failing it; passes that feed each other without end are an error, not a loop.
    /// </summary>
    public string BuildDeleteCommandText(GraphBuilder graph, RespawnerOptions options)
    {
        if (graph.CyclicalTableRelationships.Count > 0)
        {
            // Deleting in order cannot satisfy a cycle of foreign keys; truncate … cascade can.
            return postgres.BuildDeleteCommandText(graph, options);
        }

        var tables = graph.ToDelete.Select(t => t.GetFullName('"')).ToList();
        if (tables.Count == 0)
        {
            return "";
        }

        var names = string.Join(", ", tables.Select(Literal));
        return $$"""
            do $reset$
            declare
                tables text[] := array[{{names}}];
                t text;
                left_over boolean;
            begin
                for pass in 1..{{MaxPasses}} loop
                    foreach t in array tables loop
                        begin
                            execute 'delete from ' || t;
                        exception when foreign_key_violation then
                            null; -- rows written by a trigger of this pass still refer to these: the next pass
                        end;
                    end loop;
                    left_over := false;
                    foreach t in array tables loop
                        execute 'select exists (select from ' || t || ')' into left_over;
                        exit when left_over;
                    end loop;
                    if not left_over then
                        return;
                    end if;
                end loop;
                raise exception 'tables still not empty after {{MaxPasses}} passes: delete triggers keep writing to them';
            end $reset$;
            """;
    }

    /// <summary>
    /// Each sequence a reset table owns back to its start, with <c>setval</c>: <c>alter sequence … restart</c>
    /// (Respawn's way) also gives the sequence a new file.
    /// </summary>
    public string BuildReseedSql(IEnumerable<Table> tablesToDelete)
    {
        var names = tablesToDelete.Select(t => Literal(t.GetFullName('"'))).ToList();
        if (names.Count == 0)
        {
            return "";
        }

        return $"""
            select setval(s.seqrelid::regclass, s.seqstart, false)
            from pg_sequence s
            join pg_depend d on d.classid = 'pg_class'::regclass and d.objid = s.seqrelid
                and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i')
            where d.refobjid in ({string.Join(", ", names.Select(n => $"{n}::regclass"))});
            """;
    }

    /// <summary>A table's quoted name as an SQL string literal.</summary>
    private static string Literal(string name) => $"'{name.Replace("'", "''", StringComparison.Ordinal)}'";

    public string BuildTableCommandText(RespawnerOptions options) => postgres.BuildTableCommandText(options);

    public string BuildTemporalTableCommandText(RespawnerOptions options) => postgres.BuildTemporalTableCommandText(options);

    public string BuildRelationshipCommandText(RespawnerOptions options) => postgres.BuildRelationshipCommandText(options);

    public string BuildTurnOffSystemVersioningCommandText(IEnumerable<TemporalTable> tablesToTurnOffSystemVersioning) =>
        postgres.BuildTurnOffSystemVersioningCommandText(tablesToTurnOffSystemVersioning);

    public string BuildTurnOnSystemVersioningCommandText(IEnumerable<TemporalTable> tablesToTurnOnSystemVersioning) =>
        postgres.BuildTurnOnSystemVersioningCommandText(tablesToTurnOnSystemVersioning);

    public Task<bool> CheckSupportsTemporalTables(DbConnection connection) => postgres.CheckSupportsTemporalTables(connection);

    public bool RequiresStatementsToBeExecutedIndividually() => postgres.RequiresStatementsToBeExecutedIndividually();
}
