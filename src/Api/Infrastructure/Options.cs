using System.ComponentModel.DataAnnotations;

namespace RappelRdv.Api.Infrastructure;

internal sealed class AdminOptions
{
    public const string Section = "Admin";

    [Required(ErrorMessage = "Admin__ApiKey is not set: give the operator's key (./run.sh generates one).")]
    [MinLength(16, ErrorMessage = "Admin__ApiKey must be at least 16 characters long.")]
    public string ApiKey { get; set; } = "";
}

internal sealed class PublicOptions
{
    [Url(ErrorMessage = "PublicBaseUrl must be an absolute http(s) URL, such as https://rappel.example.org")]
    public string PublicBaseUrl { get; set; } = "http://127.0.0.1:5080";
}

/// <summary><c>Webhooks__AllowPrivateNetworks</c>: http and private addresses for tenant webhooks; true in Development only.</summary>
internal sealed record WebhookPolicy(bool AllowPrivateNetworks);
