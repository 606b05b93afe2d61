using System.Globalization;
using RappelRdv.Bench.Segments;
using RappelRdv.Reminders.Texts;

// dotnet run --project bench/Segments -c Release -- [--count 10000] [--seed 20261201] [--language fr] [--show 5]
var count = 10_000;
var seed = 20261201;
var language = "fr";
var show = 0;
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--count": count = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--seed": seed = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--language": language = args[i + 1]; break;
        case "--show": show = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

var sample = SampleAppointments.Generate(count, seed);

// A few texts as the citizens would read them, with their segment count.
foreach (var appointment in sample.Take(show))
{
    foreach (var kind in SmsTexts.Kinds)
    {
        var text = SmsTexts.For(kind, appointment.Context with { Language = language });
        Console.WriteLine($"[{Gsm7.Segments(text)}] {text}");
    }
}

Console.Write(SegmentsReport.Run(sample, language).Format());
return 0;
