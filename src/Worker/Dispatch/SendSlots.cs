namespace RappelRdv.Worker.Dispatch;

/// <summary>
/// A dispatch loop's send slots (<c>Dispatch__Parallelism</c>: sends in flight), its group slots
/// (<c>Dispatch__Groups</c>: the connections its sends share, one a claim) and the groups holding them.
/// A group never throws (it logs and gives back), so draining only waits.
/// </summary>
internal sealed class SendSlots(int parallelism, int groups)
{
    private readonly List<Task> running = [];

    public int Parallelism { get; } = parallelism;

    public SemaphoreSlim Slots { get; } = new(parallelism, parallelism);

    public SemaphoreSlim Groups { get; } = new(groups, groups);

    public void Add(Task group)
    {
        running.RemoveAll(t => t.IsCompleted);
        running.Add(group);
    }

    public Task DrainAsync() => Task.WhenAll(running);
}
