using System.Net.Http;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Retry;
using RappelRdv.Reminders.Phones;
using Twilio.Clients;
using Twilio.Exceptions;
using Twilio.Http;
using Twilio.Rest.Api.V2010.Account;
using Twilio.Types;

namespace RappelRdv.Reminders.Twilio;

/// <summary>
/// Twilio's REST API through twilio-csharp, behind one resilience pipeline per Worker process:
/// a retry only where the request was surely not acted on (429 / 20429, connection refused),
/// a circuit breaker on answers that leave the outcome unknown (5xx, timeouts), and a rate
/// limiter at <c>Twilio__MaxRequestsPerSecond</c>.
/// </summary>
public sealed class TwilioProvider : IMessageProvider, IDisposable
{
    private readonly TwilioOptions options;
    private readonly IHttpClientFactory httpClients;
    private readonly ILogger<TwilioProvider> logger;
    private readonly RateLimiter rateLimiter;
    private readonly ResiliencePipeline<ProviderResult> pipeline;

    public TwilioProvider(IOptions<TwilioOptions> options, IHttpClientFactory httpClients, ILogger<TwilioProvider> logger)
    {
        this.options = options.Value;
        this.httpClients = httpClients;
        this.logger = logger;
        var rate = this.options.MaxRequestsPerSecond;
        // Refilled in small steps so that a burst is spread over the second rather than sent at its start.
        var stepsPerSecond = Math.Min(rate, 20);
        rateLimiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, rate / stepsPerSecond),
            TokensPerPeriod = Math.Max(1, rate / stepsPerSecond),
            ReplenishmentPeriod = TimeSpan.FromSeconds(1.0 / stepsPerSecond),
            QueueLimit = 100_000,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });

        pipeline = new ResiliencePipelineBuilder<ProviderResult>()
            .AddRetry(new RetryStrategyOptions<ProviderResult>
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is { Outcome: ProviderOutcome.NotSent, ErrorCode: not BrokenCircuit }),
                MaxRetryAttempts = 3,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = this.options.RetryDelay,
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<ProviderResult>
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result?.Outcome == ProviderOutcome.Unknown),
                FailureRatio = 0.5,
                MinimumThroughput = this.options.BreakerMinimumThroughput,
                SamplingDuration = TimeSpan.FromSeconds(30),
                BreakDuration = this.options.BreakDuration,
            })
            .AddRateLimiter(new RateLimiterStrategyOptions { RateLimiter = args => rateLimiter.AcquireAsync(1, args.Context.CancellationToken) })
            .Build();
    }

    /// <summary>The error code we give a send refused because the circuit is open.</summary>
    public const int BrokenCircuit = -1;

    public Task<ProviderResult> SendSmsAsync(string to, string body, CancellationToken cancellationToken) =>
        ExecuteAsync(async client =>
        {
            var create = new CreateMessageOptions(new PhoneNumber(to))
            {
                Body = body,
                StatusCallback = options.StatusCallbackUrl,
            };
            if (!string.IsNullOrEmpty(options.MessagingServiceSid))
            {
                create.MessagingServiceSid = options.MessagingServiceSid;
            }
            else
            {
                create.From = new PhoneNumber(options.FromNumber);
            }

            var message = await MessageResource.CreateAsync(create, client);
            return ProviderResult.Accepted(message.Sid);
        }, cancellationToken);

    public Task<ProviderResult> StartCallAsync(string to, Uri twimlUrl, Uri statusCallback, CancellationToken cancellationToken) =>
        ExecuteAsync(async client =>
        {
            var call = await CallResource.CreateAsync(
                new CreateCallOptions(new PhoneNumber(to), new PhoneNumber(string.IsNullOrEmpty(options.VoiceFromNumber) ? options.FromNumber : options.VoiceFromNumber))
                {
                    Url = twimlUrl,
                    StatusCallback = statusCallback,
                    StatusCallbackEvent = ["initiated", "ringing", "answered", "completed"],
                    MachineDetection = "DetectMessageEnd",
                    Timeout = 30,
                },
                client);
            return ProviderResult.Accepted(call.Sid);
        }, cancellationToken);

    public async Task<string?> FindSentSmsAsync(string to, string body, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var messages = await MessageResource.ReadAsync(
            new ReadMessageOptions { To = new PhoneNumber(to), DateSentAfter = since.UtcDateTime, Limit = 50 }, CreateClient());
        return messages.FirstOrDefault(m => m.Body == body)?.Sid;
    }

    private async Task<ProviderResult> ExecuteAsync(Func<ITwilioRestClient, Task<ProviderResult>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await pipeline.ExecuteAsync(async token =>
            {
                try
                {
                    return await call(CreateClient());
                }
                catch (ApiException e) when (e.Status == 429 || e.Code == 20429)
                {
                    return new ProviderResult(ProviderOutcome.NotSent, ErrorCode: e.Code, Error: "rate limited by Twilio");
                }
                catch (ApiException e) when (e.Status >= 500)
                {
                    return new ProviderResult(ProviderOutcome.Unknown, ErrorCode: e.Code, Error: $"Twilio answered {e.Status}");
                }
                catch (ApiException e)
                {
                    return new ProviderResult(ProviderOutcome.Rejected, ErrorCode: e.Code, Error: e.Message);
                }
                catch (ApiConnectionException e) when (IsConnectionRefused(e))
                {
                    return new ProviderResult(ProviderOutcome.NotSent, Error: "connection refused");
                }
                catch (ApiConnectionException e)
                {
                    logger.LogWarning("Twilio call ended without an answer: {Reason}", e.InnerException?.GetType().Name ?? e.GetType().Name);
                    return new ProviderResult(ProviderOutcome.Unknown, Error: "no answer from Twilio");
                }
            }, cancellationToken);
        }
        catch (BrokenCircuitException)
        {
            return new ProviderResult(ProviderOutcome.NotSent, ErrorCode: BrokenCircuit, Error: "circuit open: Twilio is failing");
        }
        catch (RateLimiterRejectedException)
        {
            return new ProviderResult(ProviderOutcome.NotSent, ErrorCode: BrokenCircuit, Error: "rate limiter queue full");
        }
    }

    private static bool IsConnectionRefused(Exception e)
    {
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError })
            {
                return true;
            }

            if (inner is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused })
            {
                return true;
            }
        }

        return false;
    }

    private TwilioRestClient CreateClient() =>
        new(options.AccountSid, options.AuthToken, httpClient: new SystemNetHttpClient(httpClients.CreateClient(HttpClientName)));

    public const string HttpClientName = "twilio";

    public void Dispose() => rateLimiter.Dispose();
}

/// <summary>No Twilio account: nothing leaves the machine; each send is logged with the phone masked.</summary>
public sealed class SimulatedProvider(ILogger<SimulatedProvider> logger) : IMessageProvider
{
    public Task<ProviderResult> SendSmsAsync(string to, string body, CancellationToken cancellationToken)
    {
        logger.LogInformation("Simulated SMS to {Phone} ({Length} characters)", FrenchPhone.Mask(to), body.Length);
        return Task.FromResult(ProviderResult.Accepted("SMsim" + Guid.NewGuid().ToString("N")[..29]));
    }

    public Task<ProviderResult> StartCallAsync(string to, Uri twimlUrl, Uri statusCallback, CancellationToken cancellationToken)
    {
        logger.LogInformation("Simulated call to {Phone}", FrenchPhone.Mask(to));
        return Task.FromResult(ProviderResult.Accepted("CAsim" + Guid.NewGuid().ToString("N")[..29]));
    }

    public Task<string?> FindSentSmsAsync(string to, string body, DateTimeOffset since, CancellationToken cancellationToken) =>
        Task.FromResult<string?>(null);
}
