using System.Net.Sockets;
using Npgsql;
using DatabaseSetup = RappelRdv.Reminders.Database.Database;

namespace RappelRdv.Reminders.Tests;

/// <summary>What counts as "the database is out of reach" (a 503 and a retry) and what does not.</summary>
public sealed class DatabaseUnreachableTests
{
    public static TheoryData<string, Exception, bool> Cases => new()
    {
        { "a connect timeout", new NpgsqlException("Exception while connecting", new TimeoutException()), true },
        { "a refused connection", new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused)), true },
        { "a server shutting down", new PostgresException("terminating connection", "FATAL", "FATAL", "57P01"), true },
        { "too many connections", new PostgresException("too many clients", "FATAL", "FATAL", "53300"), true },
        { "wrapped by a library", new InvalidOperationException("upgrade failed", new NpgsqlException("Exception while reading", new IOException())), true },
        { "a statement that is wrong", new PostgresException("relation does not exist", "ERROR", "ERROR", "42P01"), false },
        { "an HTTP call that timed out", new TaskCanceledException("The request was canceled", new TimeoutException()), false },
        { "an HTTP host out of reach", new HttpRequestException("Connection refused", new SocketException((int)SocketError.ConnectionRefused)), false },
        { "a bug", new NullReferenceException(), false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Only_the_database_being_out_of_reach_counts(string what, Exception exception, bool unreachable) =>
        Assert.True(DatabaseSetup.IsUnreachable(exception) == unreachable, $"{what}: expected {unreachable}");
}
