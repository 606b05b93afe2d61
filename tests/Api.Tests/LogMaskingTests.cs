using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RappelRdv.Api.Tests;

/// <summary>What the Api's log output holds when an exception carries a phone number, and numbers hide in identifiers and non-string values.</summary>
public sealed class LogMaskingTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task An_exception_quoting_a_phone_and_numbers_of_every_shape_reach_the_log_output_masked()
    {
        var logger = api.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RappelRdv.Tests.Masking");
        Exception thrown;
        try
        {
            try
            {
                throw new FormatException("Twilio refused +33 6 98 76 54 32: not a mobile");
            }
            catch (FormatException inner)
            {
                throw new InvalidOperationException("Sending to 0698765432 failed", inner);
            }
        }
        catch (InvalidOperationException e)
        {
            thrown = e;
        }

        var marker = Guid.NewGuid().ToString("N");
        logger.LogError(thrown, "Send failed for {ExternalId} ({Number}, {Numbers}) " + marker + " retry 0033698765432", "rdv_0698765432", 33698765432L,
            new Dictionary<string, object> { ["to"] = 698765432L, ["id"] = "appt-33698765432x" });

        var log = await api.Log.WaitForAsync(marker);

        Assert.Contains(marker, log, StringComparison.Ordinal);
        Assert.Contains("InvalidOperationException", log, StringComparison.Ordinal);   // the exception is there, its type and stack with it
        Assert.Contains("FormatException", log, StringComparison.Ordinal);
        Assert.Contains(nameof(An_exception_quoting_a_phone_and_numbers_of_every_shape_reach_the_log_output_masked), log, StringComparison.Ordinal);
        foreach (var needle in new[] { "98765432", "98 76 54 32", "8765432" })
        {
            Assert.DoesNotContain(needle, log, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_measure_is_never_taken_for_a_phone_number()
    {
        // A request's Elapsed (milliseconds as a double) has as many digits as a number: it stays as it is.
        var logger = api.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RappelRdv.Tests.Masking");
        var marker = Guid.NewGuid().ToString("N");
        logger.LogInformation("Answered " + marker + " in {Elapsed} ms ({Duration}, {Number})", 23.313232123, TimeSpan.FromTicks(123456789012), 33698765432L);

        var line = (await api.Log.WaitForAsync(marker)).Split('\n').Single(l => l.Contains(marker, StringComparison.Ordinal));

        Assert.Contains("\"Elapsed\":23.313232123", line, StringComparison.Ordinal);
        Assert.Contains("03:25:45.6789012", line, StringComparison.Ordinal);
        Assert.DoesNotContain("98765432", line, StringComparison.Ordinal);   // a long is still a number that may be a phone
    }

    [Fact]
    public async Task A_message_id_whose_last_group_is_digits_is_not_taken_for_a_phone()
    {
        var logger = api.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RappelRdv.Tests.Masking");
        // The shape of about one UUIDv7 in 110: its last group is twelve decimal digits.
        var messageId = Guid.Parse("01a2504e-36e8-7744-9601-234567890123");
        var marker = Guid.NewGuid().ToString("N");

        logger.LogWarning("Dispatch of message {MessageId} failed " + marker, messageId);

        Assert.False(RappelRdv.Reminders.Logging.PhoneMaskingEnricher.LooksLikePhone(messageId.ToString()));
        Assert.Contains(messageId.ToString(), await api.Log.WaitForAsync(marker), StringComparison.Ordinal);
    }
}
