using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RappelRdv.Worker.Tests;

/// <summary>
/// An agenda's webhook endpoint on loopback, raw HTTP/1.1 over a socket so that it can misbehave as
/// no framework would let it: while <see cref="Stalls"/> it answers a <c>200</c> head announcing
/// 1,000 bytes, then drips one byte a second (bounded: 1,000 at most), until the Worker hangs up.
/// Otherwise it answers <c>204</c> at once. It keeps the <c>webhook-id</c> of each request and counts
/// the connections the Worker holds open.
/// </summary>
internal sealed class StallingAgenda : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();
    private int open;
    private int maxOpen;
    private int heads;

    public StallingAgenda(bool stalls)
    {
        Stalls = stalls;
        listener.Start();
        _ = AcceptAsync();
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/events";

    /// <summary>Whether the next requests get the dripping answer.</summary>
    public bool Stalls { get; set; }

    /// <summary>Connections the Worker holds open now.</summary>
    public int Open => Volatile.Read(ref open);

    /// <summary>The most connections held open at once.</summary>
    public int MaxOpen => Volatile.Read(ref maxOpen);

    /// <summary>Dripping answers whose head was sent.</summary>
    public int Heads => Volatile.Read(ref heads);

    /// <summary>The <c>webhook-id</c> of every request, in order of arrival.</summary>
    public ConcurrentQueue<string> WebhookIds { get; } = new();

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception)
            {
                return;
            }

            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        var now = Interlocked.Increment(ref open);
        InterlockedMax(ref maxOpen, now);
        try
        {
            using (client)
            {
                var stream = client.GetStream();
                var request = await ReadRequestAsync(stream);
                if (request is null)
                {
                    return;
                }

                WebhookIds.Enqueue(request);
                if (!Stalls)
                {
                    await stream.WriteAsync("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), stop.Token);
                    return;
                }

                await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n"u8.ToArray(), stop.Token);
                await stream.FlushAsync(stop.Token);
                Interlocked.Increment(ref heads);
                // The Worker hanging up ends the read with 0 bytes (or an error): that is what is waited for.
                var hungUp = stream.ReadAsync(new byte[1], stop.Token).AsTask();
                for (var i = 0; i < 1000 && !hungUp.IsCompleted; i++)
                {
                    await Task.WhenAny(hungUp, Task.Delay(TimeSpan.FromSeconds(1), stop.Token));
                    if (!hungUp.IsCompleted)
                    {
                        await stream.WriteAsync("x"u8.ToArray(), stop.Token);
                    }
                }
            }
        }
        catch (Exception)
        {
            // The Worker hung up, or the test ended.
        }
        finally
        {
            Interlocked.Decrement(ref open);
        }
    }

    /// <summary>Reads the head and the body (by Content-Length); returns the webhook-id, or null if the connection ended first.</summary>
    private async Task<string?> ReadRequestAsync(NetworkStream stream)
    {
        var buffer = new List<byte>();
        var chunk = new byte[4096];
        int headEnd;
        while ((headEnd = IndexOfHeadEnd(buffer)) < 0)
        {
            var read = await stream.ReadAsync(chunk, stop.Token);
            if (read == 0)
            {
                return null;
            }

            buffer.AddRange(chunk.AsSpan(0, read).ToArray());
        }

        var head = Encoding.ASCII.GetString([.. buffer.Take(headEnd)]);
        var lines = head.Split("\r\n");
        string Header(string name) =>
            lines.FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))?[(name.Length + 1)..].Trim() ?? "";
        var length = int.TryParse(Header("Content-Length"), out var n) ? n : 0;
        while (buffer.Count - (headEnd + 4) < length)
        {
            var read = await stream.ReadAsync(chunk, stop.Token);
            if (read == 0)
            {
                return null;
            }

            buffer.AddRange(chunk.AsSpan(0, read).ToArray());
        }

        return Header("webhook-id");
    }

    private static int IndexOfHeadEnd(List<byte> buffer)
    {
        for (var i = 0; i + 3 < buffer.Count; i++)
        {
            if (buffer[i] == '\r' && buffer[i + 1] == '\n' && buffer[i + 2] == '\r' && buffer[i + 3] == '\n')
            {
                return i;
            }
        }

        return -1;
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        stop.Dispose();
    }
}
