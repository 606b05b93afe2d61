using System.Net;
using RappelRdv.Reminders.Events;
using RappelRdv.Worker.Events;

namespace RappelRdv.Worker.Tests;

/// <summary>Where an agenda's webhook may lead the Worker, and how much of its answer the Worker reads.</summary>
public sealed class WebhookEgressTests
{
    [Theory]
    [InlineData("10.1.2.3")]
    [InlineData("127.0.0.1")]
    [InlineData("169.254.169.254")]      // cloud metadata
    [InlineData("100.64.0.1")]
    [InlineData("192.0.0.8")]
    [InlineData("198.18.0.1")]
    [InlineData("198.19.255.255")]
    [InlineData("192.0.2.1")]
    [InlineData("240.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("::1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("64:ff9b::a00:1")]       // NAT64 of 10.0.0.1
    [InlineData("64:ff9b:1::1")]
    [InlineData("2002:a00:1::1")]        // 6to4 of 10.0.0.1
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2")]   // Teredo
    [InlineData("2001:db8::1")]
    [InlineData("fc00::1")]
    [InlineData("fe80::1")]
    [InlineData("ff02::1")]
    [InlineData("::a00:1")]              // IPv4-compatible
    public void A_non_global_address_is_not_public(string address) => Assert.False(WebhookUrls.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("193.51.24.1")]
    [InlineData("::ffff:1.1.1.1")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("2a01:e0a::1")]
    public void A_global_address_is_public(string address) => Assert.True(WebhookUrls.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("https://agenda.example.org:8443/hooks", false)]
    [InlineData("https://agenda.example.org:22/hooks", false)]
    [InlineData("https://[64:ff9b::a00:1]/hooks", false)]
    [InlineData("https://198.18.0.1/hooks", false)]
    [InlineData("https://agenda.example.org/hooks", true)]
    [InlineData("https://agenda.example.org:443/hooks", true)]
    public void A_webhook_url_needs_https_on_443_to_a_public_address(string url, bool accepted) =>
        Assert.Equal(accepted, WebhookUrls.Check(url, allowPrivate: false) is null);

    [Fact]
    public async Task The_checked_connection_never_goes_through_a_proxy_and_other_ports_are_refused_before_any_lookup()
    {
        using var handler = EventDelivery.CreateHandler(allowPrivateNetworks: false);
        using var client = new HttpClient(handler);

        Assert.False(handler.UseProxy);
        Assert.Null(handler.Proxy);
        var toPort = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("http://agenda.invalid:8080/hooks"));
        var toLoopback = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("http://localhost/hooks"));
        Assert.Contains("port 8080", toPort.Message, StringComparison.Ordinal);
        Assert.Contains("public address", toLoopback.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task At_most_64_KiB_of_an_endless_answer_is_read()
    {
        var endless = new EndlessStream();
        using var client = new HttpClient(new AnswerWith(endless));

        var status = await EventDelivery.PostAsync(client, new HttpRequestMessage(HttpMethod.Post, "https://agenda.example.org/hooks"), CancellationToken.None);

        Assert.Equal(200, status);
        Assert.InRange(endless.Taken, 1, EventDelivery.MaxAnswerBytes);
    }

    private sealed class AnswerWith(Stream body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(body) });
    }

    /// <summary>An agenda that never stops answering; counts what was taken from it.</summary>
    private sealed class EndlessStream : Stream
    {
        public long Taken { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => Taken; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            buffer.AsSpan(offset, count).Fill((byte)'x');
            Taken += count;
            return count;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
