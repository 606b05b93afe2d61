namespace RappelRdv.Reminders.Hosting;

/// <summary>
/// <c>Webhooks__AllowPrivateNetworks</c>: http and private addresses for tenant webhooks. Unset, it
/// follows the environment (true in Development only), so <see cref="WebhookPolicy"/> is what code reads.
/// </summary>
internal sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    public bool? AllowPrivateNetworks { get; set; }
}

/// <summary>The decision <see cref="WebhookOptions"/> leads to, once the environment's default is applied.</summary>
public sealed record WebhookPolicy(bool AllowPrivateNetworks);
