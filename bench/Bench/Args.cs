namespace RappelRdv.Bench;

internal static class Args
{
    public static string Get(string[] args, string name, string? fallback = null)
    {
        var index = Array.IndexOf(args, "--" + name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1]
            : fallback ?? throw new ArgumentException($"--{name} is required");
    }

    public static int Int(string[] args, string name, int fallback) =>
        int.Parse(Get(args, name, fallback.ToString(System.Globalization.CultureInfo.InvariantCulture)), System.Globalization.CultureInfo.InvariantCulture);

    public static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p / 100 * sorted.Count) - 1)];
}
