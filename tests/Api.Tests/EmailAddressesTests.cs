using RappelRdv.Api.Dashboard;

namespace RappelRdv.Api.Tests;

/// <summary>CONTRACT §9.6: addresses are compared in a form that look-alike characters cannot reach.</summary>
public sealed class EmailAddressesTests
{
    [Theory]
    [InlineData("agent@var.fr", "agent@var.fr")]
    [InlineData("  Agent.Social@VAR.fr ", "agent.social@var.fr")]
    [InlineData("agent@xn--prfecture-c4a.fr", "agent@xn--prfecture-c4a.fr")]   // an internationalised domain, in its ASCII form
    [InlineData("agent@xn--ar-303n.fr", "agent@xn--ar-303n.fr")]   // fullwidth v encoded: opaque ASCII, never equal to var.fr
    public void An_address_is_compared_lower_case_with_its_domain_in_ASCII(string address, string compared)
    {
        Assert.Equal(compared, EmailAddresses.Normalize(address));
    }

    [Theory]
    [InlineData("\u212Aevin@var.fr")]        // Kelvin sign: ToLowerInvariant makes it k
    [InlineData("\uFF4Fps@rappel.test")]     // fullwidth o
    [InlineData("\u0430gent@var.fr")]        // Cyrillic a
    [InlineData("kevin@\uFF56ar.fr")]        // fullwidth v in the domain: IDNA maps it to v
    [InlineData("kevin@var.\u212Ar")]        // Kelvin sign in the domain
    [InlineData("agent@préfecture.fr")]     // an internationalised domain not in its ASCII form
    [InlineData("agent")]
    [InlineData("agent@")]
    [InlineData("@var.fr")]
    [InlineData("a@b@var.fr")]
    [InlineData("agent social@var.fr")]
    [InlineData("agent@localhost")]
    [InlineData("")]
    public void A_look_alike_or_what_is_not_an_address_is_refused_rather_than_folded(string address)
    {
        Assert.Null(EmailAddresses.Normalize(address));
    }
}
