using System.Collections.Concurrent;
using RappelRdv.Reminders.Logging;
using Serilog.Core;
using Serilog.Events;

namespace RappelRdv.TestSupport;

/// <summary>
/// A host's log in memory, line for line what its stdout gets: registered in the host's container as an
/// <see cref="ILogEventSink"/>, which the product's logging picks up (<c>Logging.UseRappelLogging</c>,
/// <c>ReadFrom.Services</c>), it receives the events after the masking enricher and writes each with the
/// console's own <see cref="PhoneMaskingFormatter"/>. So a test of masking tests the output, not the events.
/// </summary>
public sealed class LogLines : ILogEventSink
{
    private readonly PhoneMaskingFormatter formatter = new();

    private readonly ConcurrentQueue<string> lines = new();

    public void Emit(LogEvent logEvent)
    {
        using var line = new StringWriter();
        formatter.Format(logEvent, line);
        lines.Enqueue(line.ToString());
    }

    /// <summary>The JSON lines written so far.</summary>
    public IReadOnlyList<string> Lines => [.. lines];

    /// <summary>Everything written so far, as the log would read.</summary>
    public string Text => string.Concat(lines);

    /// <summary>
    /// The log once it holds <paramref name="until"/> (a line logged by another thread: the request log is
    /// written after the answer went out); past the wait, the log as it is, for the test's assertion to say.
    /// </summary>
    public Task<string> WaitForAsync(string until) =>
        Eventually.ValueAsync(() => Task.FromResult(Text), log => log.Contains(until, StringComparison.Ordinal));
}
