using RappelRdv.Reminders.Twilio;

namespace RappelRdv.Reminders.Tests;

public sealed class TwilioRateTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(30)]
    [InlineData(50)]
    [InlineData(64)]
    [InlineData(100)]
    [InlineData(999)]
    [InlineData(10_000)]
    public void The_bucket_refills_exactly_the_configured_rate_in_steps_of_a_tenth_of_a_second_at_most_or_one_token(int rate)
    {
        var (tokens, period) = TwilioProvider.BucketStep(rate);

        // Ticks are 100 ns: the period is rounded down by less than one, i.e. a rate off by less than 1 in 10^5.
        Assert.InRange(tokens * (double)TimeSpan.TicksPerSecond / period.Ticks, rate, rate * 1.00001);
        Assert.True(tokens == 1 || period <= TimeSpan.FromMilliseconds(100), $"{tokens} tokens every {period}");
    }
}
