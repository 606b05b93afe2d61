using RappelRdv.Reminders.Appointments;

namespace RappelRdv.Reminders.Tests;

/// <summary>
/// The creation writer's own thread (CreationBatcher): it lingers for the next creation and stops when
/// none comes. Here with a linger of a millisecond, so that the writer stops and starts again thousands
/// of times while creations keep arriving: none may be left waiting (a stranded one would time out after
/// 5 s), and batches are never written two at a time.
/// </summary>
public sealed class CreationBatcherTests
{
    [Fact]
    public async Task A_creation_queued_as_the_writer_stops_is_never_left_waiting()
    {
        var writing = 0;
        var overlapped = false;
        var batches = 0;
        var batcher = new CreationBatcher(batch =>
        {
            overlapped |= Interlocked.Increment(ref writing) > 1;
            Interlocked.Increment(ref batches);
            var rows = batch.ToDictionary(c => (c.TenantId, c.ExternalId), c => new AppointmentStore.CreatedRow(1, c.TenantId, c.ExternalId, false));
            Interlocked.Decrement(ref writing);
            return rows;
        }, TimeProvider.System, writerLinger: TimeSpan.FromMilliseconds(1));

        var clients = Enumerable.Range(0, 4).Select(client => Task.Run(async () =>
        {
            var random = new Random(client);
            for (var i = 0; i < 400; i++)
            {
                var row = await batcher.WriteAsync(Creation(client, i), CancellationToken.None);
                Assert.Equal($"c{client}-{i}", row!.ExternalId);
                // Now and then a pause around the writer's linger, so that it stops between two creations.
                if (random.Next(4) == 0)
                {
                    Thread.Sleep(random.Next(3));
                }
            }
        })).ToList();

        await Task.WhenAll(clients);
        Assert.False(overlapped);
        Assert.InRange(batches, 1, 1600);
    }

    private static AppointmentStore.NewAppointment Creation(int client, int i) =>
        new(client + 1, $"c{client}-{i}", null!, false, [], "api", null, DateTimeOffset.UnixEpoch, null!, "fr", null, null!, 0);
}
