using System.Net;
using System.Net.Sockets;

namespace RappelRdv.TestSupport;

/// <summary>A TCP forwarder on loopback that can refuse and drop connections, or hold their bytes.</summary>
public sealed class TcpGate : IDisposable
{
    private readonly string targetHost;
    private readonly int targetPort;
    private readonly List<TcpClient> open = [];
    private readonly CancellationTokenSource stop = new();
    private TcpListener listener;
    private volatile TaskCompletionSource flowing = Flowing();

    private TcpGate(string targetHost, int targetPort)
    {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = AcceptAsync(listener);
    }

    public int Port { get; }

    /// <summary>How many connections it accepted (each attempt of a client, even one that then timed out).</summary>
    public int Accepted => Volatile.Read(ref accepted);

    private int accepted;

    public static TcpGate Start(string host, int port) => new(host, port);

    private static TaskCompletionSource Flowing()
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        source.SetResult();
        return source;
    }

    /// <summary>The database is gone: new connections are refused, open ones dropped.</summary>
    public void Cut()
    {
        listener.Stop();
        lock (open)
        {
            foreach (var client in open)
            {
                try
                {
                    // A reset, as a dying server's connections end.
                    client.Client?.LingerState = new LingerOption(true, 0);
                }
                catch (ObjectDisposedException)
                {
                    // Closed meanwhile by its pump.
                }

                client.Close();
            }

            open.Clear();
        }
    }

    /// <summary>The database is back on the same port.</summary>
    public void Restore()
    {
        listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Start();
        _ = AcceptAsync(listener);
    }

    /// <summary>The database is frozen: connections stay open, nothing goes through.</summary>
    public void Pause() => flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Resume() => flowing.TrySetResult();

    private async Task AcceptAsync(TcpListener from)
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await from.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
            {
                return;
            }

            Interlocked.Increment(ref accepted);
            var upstream = new TcpClient();
            try
            {
                await upstream.ConnectAsync(targetHost, targetPort, stop.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                client.Close();
                continue;
            }

            lock (open)
            {
                open.Add(client);
                open.Add(upstream);
            }

            _ = PumpAsync(client, upstream);
            _ = PumpAsync(upstream, client);
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            var source = from.GetStream();
            var target = to.GetStream();
            while (true)
            {
                var read = await source.ReadAsync(buffer, stop.Token);
                if (read == 0)
                {
                    break;
                }

                await flowing.Task.WaitAsync(stop.Token);
                await target.WriteAsync(buffer.AsMemory(0, read), stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // A side closed, or the gate cut it.
        }

        from.Close();
        to.Close();
    }

    public void Dispose()
    {
        flowing.TrySetResult();
        stop.Cancel();
        listener.Stop();
        lock (open)
        {
            open.ForEach(c => c.Close());
        }

        stop.Dispose();
    }
}
