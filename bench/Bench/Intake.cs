using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace RappelRdv.Bench;

/// <summary>
/// Pushes N appointments through PUT with C concurrent clients and prints throughput and latency.
/// <para>
/// The load generator shares the machine with the Api and PostgreSQL, so it is kept light, as pgbench's
/// C client is (docs/BENCHMARKS.md, "Intake"): every request is built before the clock starts, and each
/// client is one thread with one keep-alive HTTP/1.1 connection that writes a request, reads the whole
/// answer (status line, headers, body by Content-Length or chunks) and only then sends the next. Each
/// latency runs from the send to the answer's last byte; every answer's status is checked.
/// <c>--client httpclient</c> sends the same requests through <see cref="HttpClient"/> instead (the
/// tool before 2026-12-07), to compare.
/// </para>
/// </summary>
internal static class Intake
{
    public static async Task<int> RunAsync(string[] args)
    {
        var api = new Uri(Args.Get(args, "api", "http://127.0.0.1:5080"));
        var key = Args.Get(args, "key");
        var count = Args.Int(args, "count", 20_000);
        var concurrency = Args.Int(args, "concurrency", 16);
        var client = Args.Get(args, "client", "raw");
        var run = Guid.NewGuid().ToString("N")[..8];
        var startsAt = TimeProvider.System.GetUtcNow().AddDays(30);

        // New appointments, each its own citizen, with the tenant's default plan: the same work as before.
        var paths = new string[count];
        var bodies = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            paths[i] = $"/v1/appointments/bench-{run}-{i}";
            bodies[i] = Encoding.UTF8.GetBytes($$"""
                {"startsAt":"{{startsAt.AddMinutes(i % 5000).ToString("yyyy-MM-ddTHH:mm:00Z", CultureInfo.InvariantCulture)}}","durationMinutes":30,
                 "citizen":{"phone":"06 {{(i / 1_000_000 % 100):D2}} {{(i / 10_000 % 100):D2}} {{(i / 100 % 100):D2}} {{(i % 100):D2}}","firstName":"Awa","lastName":"Diallo"},
                 "service":"RSA","location":{"name":"UTS Toulon Ouest","address":"12 rue Picot, 83000 Toulon"} }
                """);
        }

        var latencies = new double[count];
        var failures = 0;
        var next = -1;
        var start = Stopwatch.GetTimestamp();
        if (client == "httpclient")
        {
            await ViaHttpClientAsync(api, key, concurrency, paths, bodies, latencies, () => Interlocked.Increment(ref next), () => Interlocked.Increment(ref failures));
        }
        else
        {
            var requests = new byte[count][];
            for (var i = 0; i < count; i++)
            {
                var head = Encoding.ASCII.GetBytes(
                    $"PUT {paths[i]} HTTP/1.1\r\nHost: {api.Authority}\r\nAuthorization: Bearer {key}\r\n"
                    + $"Content-Type: application/json; charset=utf-8\r\nContent-Length: {bodies[i].Length}\r\n\r\n");
                requests[i] = [.. head, .. bodies[i]];
            }

            start = Stopwatch.GetTimestamp();
            var threads = Enumerable.Range(0, concurrency).Select(_ => new Thread(() =>
            {
                using var connection = new Connection(api);
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                {
                    var sent = Stopwatch.GetTimestamp();
                    int status;
                    try
                    {
                        status = connection.Send(requests[i]);
                    }
                    catch (Exception e) when (e is IOException or SocketException or FormatException)
                    {
                        // Counted as a failure; the next request opens a new connection.
                        Console.Error.WriteLine($"  request {i}: {e.Message}");
                        connection.Dispose();
                        status = 0;
                    }

                    latencies[i] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                    if (status is < 200 or > 299)
                    {
                        Interlocked.Increment(ref failures);
                    }

                    Progress(i, count);
                }
            })
            { IsBackground = true }).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
        }

        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var sorted = latencies.Order().ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"intake: {count} PUT, {concurrency} clients, {seconds:0.0} s, {count / seconds:0} upserts/s, p50 {Args.Percentile(sorted, 50):0.0} ms, p95 {Args.Percentile(sorted, 95):0.0} ms, p99 {Args.Percentile(sorted, 99):0.0} ms, failures {failures}"));
        return failures == 0 ? 0 : 1;
    }

    private static async Task ViaHttpClientAsync(
        Uri api, string key, int concurrency, string[] paths, byte[][] bodies, double[] latencies, Func<int> take, Action failed)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency }) { BaseAddress = api, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = take()) < paths.Length)
            {
                var sent = Stopwatch.GetTimestamp();
                using var content = new ByteArrayContent(bodies[i]);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                using var response = await http.PutAsync(paths[i], content);
                await response.Content.LoadIntoBufferAsync();
                latencies[i] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                if (!response.IsSuccessStatusCode)
                {
                    failed();
                }

                Progress(i, paths.Length);
            }
        })));
    }

    private static void Progress(int i, int count)
    {
        if (i > 0 && i % 5000 == 0)
        {
            Console.Error.WriteLine($"  {i} / {count}");
        }
    }

    /// <summary>One keep-alive HTTP/1.1 connection, one request at a time; reconnects when the server closes it.</summary>
    private sealed class Connection(Uri api) : IDisposable
    {
        private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

        private readonly byte[] buffer = new byte[64 * 1024];
        private Socket? socket;
        private int start;
        private int end;

        /// <summary>Writes the request and reads its whole answer: the status code.</summary>
        public int Send(byte[] request)
        {
            if (socket is null)
            {
                socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
                {
                    NoDelay = true,
                    ReceiveTimeout = (int)Timeout.TotalMilliseconds,
                    SendTimeout = (int)Timeout.TotalMilliseconds,
                };
                socket.Connect(new IPEndPoint(IPAddress.Parse(api.Host), api.Port));
                start = end = 0;
            }

            socket.Send(request);
            var headerEnd = Find("\r\n\r\n"u8, start);
            var head = Encoding.ASCII.GetString(buffer, start, headerEnd - start);
            start = headerEnd + 4;
            // "HTTP/1.1 201 Created"
            var status = int.Parse(head.AsSpan(9, 3), CultureInfo.InvariantCulture);
            var close = false;
            var chunked = false;
            var length = 0;
            foreach (var line in head.Split("\r\n").Skip(1))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                var name = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    length = int.Parse(value, CultureInfo.InvariantCulture);
                }
                else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
                {
                    chunked = value.Contains("chunked", StringComparison.OrdinalIgnoreCase);
                }
                else if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
                {
                    close = value.Equals("close", StringComparison.OrdinalIgnoreCase);
                }
            }

            if (chunked)
            {
                while (true)
                {
                    var lineEnd = Find("\r\n"u8, start);
                    var size = int.Parse(Encoding.ASCII.GetString(buffer, start, lineEnd - start).Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    start = lineEnd + 2;
                    // The chunk and its CRLF; the last (size 0) is followed by the (empty) trailers' CRLF.
                    Skip(size + 2);
                    if (size == 0)
                    {
                        break;
                    }
                }
            }
            else
            {
                Skip(length);
            }

            if (close)
            {
                Dispose();
            }

            return status;
        }

        /// <summary>Reads until <paramref name="marker"/> is in the buffer at or after <paramref name="from"/>: its index.</summary>
        private int Find(ReadOnlySpan<byte> marker, int from)
        {
            while (true)
            {
                var at = buffer.AsSpan(from, end - from).IndexOf(marker);
                if (at >= 0)
                {
                    return from + at;
                }

                from = Math.Max(start, end - marker.Length + 1);
                var shift = Receive();
                from -= shift;
            }
        }

        /// <summary>Consumes <paramref name="count"/> bytes of the answer, reading them first when needed.</summary>
        private void Skip(int count)
        {
            while (end - start < count)
            {
                count -= end - start;
                start = end;
                Receive();
            }

            start += count;
        }

        /// <summary>Reads more of the answer, first moving what is unread to the front: how far it moved.</summary>
        private int Receive()
        {
            var shift = start;
            if (start > 0)
            {
                Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                end -= start;
                start = 0;
            }

            var read = socket!.Receive(buffer, end, buffer.Length - end, SocketFlags.None);
            if (read == 0)
            {
                throw new IOException("The Api closed the connection in the middle of an answer.");
            }

            end += read;
            return shift;
        }

        public void Dispose()
        {
            socket?.Dispose();
            socket = null;
        }
    }
}
