using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.HttpOverrides;
using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Options;

namespace RappelRdv.Api.Infrastructure;

/// <summary>
/// Limits that hold for every request, before any endpoint reads a byte: a body over
/// <see cref="MaxBodyBytes"/> (the RDV-Solidarités webhook: <see cref="MaxWebhookBodyBytes"/>) is a
/// <c>413</c>, refused on its <c>Content-Length</c> or, when it is sent in chunks, as soon as the
/// limit is crossed; form posts (Twilio, the logins) are bounded in fields and lengths.
/// </summary>
internal static class RequestLimits
{
    public const long MaxBodyBytes = 256 * 1024;

    public const long MaxWebhookBodyBytes = 512 * 1024;

    public static void AddRequestLimits(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // The largest any endpoint takes; each request is then brought down to its own limit below.
            kestrel.Limits.MaxRequestBodySize = MaxWebhookBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
        });
        builder.Services.Configure<FormOptions>(form =>
        {
            form.ValueCountLimit = 100;
            form.KeyLengthLimit = 256;
            form.ValueLengthLimit = 16 * 1024;
            form.MultipartBodyLengthLimit = MaxBodyBytes;
            form.BufferBodyLengthLimit = MaxBodyBytes;
        });

        // Where the forwarded client address is believed (ProxyOptions, bound and checked at start).
        builder.Services.AddOptions<ProxyOptions>().BindConfiguration(ProxyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ProxyOptions>>((forwarded, proxies) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // Loopback stays trusted (the systemd reverse proxy); anything else only when named. ForwardLimit
            // stays 1: the last address the known proxy appended, never one the client wrote itself.
            foreach (var entry in proxies.Value.Entries())
            {
                if (entry.Contains('/', StringComparison.Ordinal))
                {
                    forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(entry));
                }
                else
                {
                    forwarded.KnownProxies.Add(IPAddress.Parse(entry));
                }
            }
        });
    }

    public static void UseRequestLimits(this WebApplication app)
    {
        app.UseForwardedHeaders();
        // Not async: nothing is left to do once the rest has run, so its task is handed back as it is, and a
        // request that completes later does not pay one more state machine on the way out (bench/intake.sh).
        app.Use((http, next) =>
        {
            var limit = http.Request.Path.StartsWithSegments("/v1/webhooks/rdv-solidarites") ? MaxWebhookBodyBytes : MaxBodyBytes;
            if (http.Request.ContentLength > limit)
            {
                return TooLarge(http, limit);
            }

            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
            {
                feature.MaxRequestBodySize = limit;
            }

            // Also where the server does not enforce the feature (a test host, a future one): counted here.
            http.Request.Body = new CappedStream(http.Request.Body, limit);
            return next(http);
        });
    }

    private static Task TooLarge(HttpContext http, long limit) =>
        Problems.Write(http, StatusCodes.Status413PayloadTooLarge, "Body too large", $"A request body may be at most {limit / 1024} KiB here.");

    /// <summary>Throws the same <see cref="BadHttpRequestException"/> (413) as Kestrel once more than the limit has been read.</summary>
    private sealed class CappedStream(Stream inner, long limit) : Stream
    {
        private long read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => read; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Count(await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken));

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        private int Count(int bytes)
        {
            read += bytes;
            if (read > limit)
            {
                throw new BadHttpRequestException($"A request body may be at most {limit / 1024} KiB here.", StatusCodes.Status413PayloadTooLarge);
            }

            return bytes;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>
/// Where the forwarded client address is believed: addresses or CIDR networks, comma-separated, under
/// either name (ASP.NET Core's own two, <c>ForwardedHeaders__KnownProxies</c> and <c>…__KnownNetworks</c>);
/// the deploy templates set the one that fits their proxy. An entry that is neither stops the Api at start.
/// </summary>
internal sealed class ProxyOptions : IValidatableObject
{
    public const string Section = "ForwardedHeaders";

    public string? KnownProxies { get; set; }

    public string? KnownNetworks { get; set; }

    /// <summary>Every entry of both keys.</summary>
    public IEnumerable<string> Entries() =>
        $"{KnownProxies},{KnownNetworks}".Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (key, value) in new[] { (nameof(KnownProxies), KnownProxies), (nameof(KnownNetworks), KnownNetworks) })
        {
            foreach (var entry in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (entry.Contains('/', StringComparison.Ordinal) ? !System.Net.IPNetwork.TryParse(entry, out _) : !IPAddress.TryParse(entry, out _))
                {
                    yield return new ValidationResult($"{Section}__{key}: '{entry}' is neither an IP address nor a CIDR network.", [key]);
                }
            }
        }
    }
}
