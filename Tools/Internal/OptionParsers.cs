using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using OnnxCnn.Preprocess;
using OnnxCnn.Training;

namespace OnnxCnn.Cli.Internal;

/// <summary>
/// Typed options: each value is parsed by System.CommandLine while the command line is parsed, so a malformed
/// value is a parse error — one line naming the option, exit code 2 — before any work. (Choices use their own
/// parser rather than <c>AcceptOnlyFromAmong</c>, whose message is several lines and does not name the option;
/// the choices still show in help and completions.)
/// </summary>
internal static class OptionParsers
{
    /// <summary>An option that takes one of fixed tokens (case-insensitive), each standing for a value; without <paramref name="defaultToken"/> it defaults to <c>default(T)</c>.</summary>
    public static Option<T> Choice<T>(string name, string description, string? defaultToken, params (string Token, T Value)[] choices)
    {
        var tokens = choices.Select(c => c.Token).ToArray();
        var list = tokens.Length == 2 ? $"{tokens[0]} or {tokens[1]}" : $"one of {string.Join(", ", tokens)}";
        var option = new Option<T>(name)
        {
            Description = description,
            HelpName = string.Join('|', tokens),

            // One token always, also for bool choices (auto|none), which would otherwise be flags.
            Arity = ArgumentArity.ExactlyOne,
            DefaultValueFactory = _ => Default(),
            CustomParser = r =>
            {
                if (r.Tokens.Count == 0)
                {
                    return Default();
                }

                var text = r.Tokens[0].Value;
                foreach (var (token, value) in choices)
                {
                    if (string.Equals(token, text, StringComparison.OrdinalIgnoreCase))
                    {
                        return value;
                    }
                }

                r.AddError($"{name} '{text}' is not {list}.");
                return default!;
            },
        };
        option.CompletionSources.Add(tokens);
        return option;

        T Default() => defaultToken is null ? default! : choices.First(c => c.Token == defaultToken).Value;
    }

    /// <summary>A comma-separated list of positive integers (<c>--hidden 256,128</c>).</summary>
    public static Option<IReadOnlyList<int>> Widths(string name, string description) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => [],
        CustomParser = r =>
        {
            var text = r.Tokens[0].Value;
            var parts = text.Split(',', StringSplitOptions.TrimEntries);
            var widths = new List<int>();
            foreach (var part in parts)
            {
                if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var width) || width < 1)
                {
                    r.AddError($"{name} '{text}' is not a list of positive widths (e.g. 256,128).");
                    return [];
                }

                widths.Add(width);
            }

            return widths;
        },
    };

    /// <summary>An <c>HxW</c> size of at least 1×1.</summary>
    public static Option<(int Height, int Width)?> Size(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "HxW",
        CustomParser = r =>
        {
            var text = r.Tokens[0].Value;
            var parts = text.Split('x', 'X');
            if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var h)
                && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var w) && h > 0 && w > 0)
            {
                return (h, w);
            }

            r.AddError($"{name} '{text}' is not HxW (e.g. 224x224).");
            return null;
        },
    };

    /// <summary>A comma-separated list of name globs (empty entries dropped).</summary>
    public static Option<IReadOnlyList<string>> Globs(string name, string description) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => [],
        CustomParser = r => r.Tokens[0].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
    };

    /// <summary>Repeatable <c>GLOBS=MULT</c> learning-rate groups, named group1, group2, ….</summary>
    public static Option<IReadOnlyList<LearningRateGroup>> LearningRateGroups(string name, string description) => new(name)
    {
        Description = description,
        AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => [],
        CustomParser = r =>
        {
            var groups = new List<LearningRateGroup>();
            foreach (var token in r.Tokens)
            {
                var text = token.Value;
                var at = text.LastIndexOf('=');
                var globs = at > 0 ? text[..at].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
                if (globs.Length == 0 || !float.TryParse(text[(at + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var multiplier) || !(multiplier >= 0) || float.IsInfinity(multiplier))
                {
                    r.AddError($"{name} '{text}' is not GLOBS=MULT (e.g. '/layer4/*=0.1').");
                    return [];
                }

                groups.Add(new LearningRateGroup($"group{groups.Count + 1}", globs, multiplier));
            }

            return groups;
        },
    };

    /// <summary>A preprocessing spec (<see cref="PreprocessSpec.Parse"/>).</summary>
    public static Option<PreprocessSpec> Preprocess(string name, string description, string defaultSpec) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => PreprocessSpec.Parse(defaultSpec),
        CustomParser = r => Parse(r, name, PreprocessSpec.Parse) ?? PreprocessSpec.ImageNet,
    };

    /// <summary>An augmentation spec (<see cref="AugmentSpec.Parse"/>), or null when not given.</summary>
    public static Option<AugmentSpec?> Augment(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = r => Parse(r, name, AugmentSpec.Parse),
    };

    private static T? Parse<T>(ArgumentResult r, string name, Func<string, T> parse)
        where T : class
    {
        try
        {
            return parse(r.Tokens[0].Value);
        }
        catch (FormatException e)
        {
            r.AddError($"{name}: {e.Message}");
            return null;
        }
    }
}
