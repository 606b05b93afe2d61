namespace RappelRdv.Worker.Dispatch;

/// <summary>
/// A dispatch loop's send slots (<c>Dispatch:Parallelism</c>) and the sends holding them. A send
/// never throws (RunAsync logs and gives back), so draining only waits.
/// </summary>
internal sealed class SendSlots(int parallelism)
{
    private readonly List<Task> running = [];

    public int Parallelism { get; } = parallelism;

    public SemaphoreSlim Slots { get; } = new(parallelism, parallelism);

    public void Add(IEnumerable<Task> sends)
    {
        running.RemoveAll(t => t.IsCompleted);
        running.AddRange(sends);
    }

    public Task DrainAsync() => Task.WhenAll(running);
}
