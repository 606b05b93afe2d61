namespace RappelRdv.Reminders.Twilio;

/// <summary>
/// twilio-csharp has no base-URL setting: this handler sends its requests to
/// <c>Twilio__ApiBaseUrl</c> instead (a regional edge, a proxy, or a fake in tests).
/// </summary>
public sealed class TwilioHostRewriter(Uri baseUrl) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri is { } uri && uri.Host.EndsWith("twilio.com", StringComparison.OrdinalIgnoreCase))
        {
            var basePath = baseUrl.AbsolutePath.TrimEnd('/');
            request.RequestUri = new UriBuilder(uri)
            {
                Scheme = baseUrl.Scheme,
                Host = baseUrl.Host,
                Port = baseUrl.Port,
                Path = basePath + uri.AbsolutePath,
            }.Uri;
        }

        return base.SendAsync(request, cancellationToken);
    }
}
