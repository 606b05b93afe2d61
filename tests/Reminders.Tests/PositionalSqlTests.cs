using Npgsql;
using RappelRdv.Reminders.Database;

namespace RappelRdv.Reminders.Tests;

public sealed class PositionalSqlTests
{
    [Fact]
    public void Numbers_each_name_in_the_order_it_first_appears()
    {
        var sql = PositionalSql.From("select * from unnest(@Ids, @Names) as n(id, name) where n.id <> all(@Ids) and @Flag");

        Assert.Equal("select * from unnest($1, $2) as n(id, name) where n.id <> all($1) and $3", sql.Text);
        Assert.Equal(["Ids", "Names", "Flag"], sql.Names);
    }

    [Fact]
    public void Leaves_what_is_not_a_parameter()
    {
        var sql = PositionalSql.From("select tags @> array['a'], @@version, email from people where email like '%' || @Domain");

        Assert.Equal("select tags @> array['a'], @@version, email from people where email like '%' || $1", sql.Text);
        Assert.Equal(["Domain"], sql.Names);
    }

    [Fact]
    public void Adds_the_parameters_in_the_order_of_their_numbers()
    {
        var sql = PositionalSql.From("select @B, @A");
        var a = new NpgsqlParameter<int> { TypedValue = 1 };
        var b = new NpgsqlParameter<int> { TypedValue = 2 };

        var command = sql.BatchCommand(new Dictionary<string, NpgsqlParameter> { ["A"] = a, ["B"] = b });

        Assert.Same(b, command.Parameters[0]);
        Assert.Same(a, command.Parameters[1]);
    }

    [Fact]
    public void Refuses_a_missing_or_an_unknown_parameter()
    {
        var sql = PositionalSql.From("select @A, @B");
        var one = new NpgsqlParameter<int> { TypedValue = 1 };

        Assert.Throws<ArgumentException>(() => sql.BatchCommand(new Dictionary<string, NpgsqlParameter> { ["A"] = one }));
        Assert.Throws<ArgumentException>(() => sql.BatchCommand(
            new Dictionary<string, NpgsqlParameter> { ["A"] = one, ["C"] = new NpgsqlParameter<int> { TypedValue = 3 } }));
    }
}
