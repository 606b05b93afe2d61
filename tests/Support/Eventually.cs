namespace RappelRdv.TestSupport;

/// <summary>
/// The one way a test waits for something another thread or process does (a notification heard, a
/// request arrived, a line flushed): it looks again at once when asked, every few milliseconds, until
/// the thing is there or a generous deadline passes. Never a fixed sleep, never a growing one: a fast
/// machine does not wait, a loaded one waits as long as it must.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Reads until <paramref name="done"/> holds for what was read, and returns it; past the timeout,
    /// returns the last reading, for the test's own assertion to say what was wrong.
    /// </summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan? timeout = null)
    {
        var deadline = TimeProvider.System.GetTimestamp() + Ticks(timeout ?? DefaultTimeout);
        while (true)
        {
            var value = await read();
            if (done(value) || TimeProvider.System.GetTimestamp() > deadline)
            {
                return value;
            }

            await Task.Delay(Interval);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds; past the timeout, a <see cref="TimeoutException"/> saying what.</summary>
    public static Task UntilAsync(Func<bool> condition, Func<string> what, TimeSpan? timeout = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, timeout);

    /// <summary>
    /// Waits until <paramref name="condition"/> (a query, a request) holds; past the timeout, a
    /// <see cref="TimeoutException"/> saying what, <paramref name="what"/> being asked only then.
    /// </summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, Func<string> what, TimeSpan? timeout = null)
    {
        if (!await ValueAsync(condition, held => held, timeout))
        {
            throw new TimeoutException(what());
        }
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * TimeProvider.System.TimestampFrequency);
}
