using System.Text.Json;

namespace DefectDetection.Testing;

/// <summary>
/// A small JSON Schema validator for the keywords our schema files use: <c>$ref</c> (local <c>#/$defs/...</c>),
/// <c>type</c> (a name or a list), <c>required</c>, <c>properties</c>, <c>additionalProperties</c> (false or a schema),
/// <c>items</c>, <c>minItems</c>, <c>maxItems</c>, <c>minimum</c>, <c>maximum</c>, <c>enum</c> and <c>oneOf</c>. A keyword
/// it does not know fails the validation, so a schema cannot silently ask for more than is checked.
/// </summary>
public static class JsonSchemaValidator
{
    private static readonly HashSet<string> Known =
    [
        "$schema", "title", "description", "$defs", "$ref", "type", "required", "properties", "additionalProperties",
        "items", "minItems", "maxItems", "minimum", "maximum", "enum", "oneOf",
    ];

    /// <summary>The violations of <paramref name="instance"/> against <paramref name="schema"/> (empty when valid), each with its JSON path.</summary>
    public static List<string> Validate(JsonElement schema, JsonElement instance)
    {
        List<string> errors = [];
        Check(schema, schema, instance, "$", errors);
        return errors;
    }

    private static void Check(JsonElement root, JsonElement schema, JsonElement value, string path, List<string> errors)
    {
        foreach (JsonProperty keyword in schema.EnumerateObject())
        {
            if (!Known.Contains(keyword.Name))
            {
                errors.Add($"{path}: the schema uses '{keyword.Name}', which this validator does not check");
            }
        }

        if (schema.TryGetProperty("$ref", out JsonElement reference))
        {
            string r = reference.GetString()!;
            const string prefix = "#/$defs/";
            if (!r.StartsWith(prefix, StringComparison.Ordinal) || !root.GetProperty("$defs").TryGetProperty(r[prefix.Length..], out JsonElement target))
            {
                errors.Add($"{path}: unresolvable $ref '{r}'");
                return;
            }

            Check(root, target, value, path, errors);
        }

        if (schema.TryGetProperty("type", out JsonElement type))
        {
            string[] types = type.ValueKind == JsonValueKind.Array ? [.. type.EnumerateArray().Select(t => t.GetString()!)] : [type.GetString()!];
            if (!types.Any(t => Is(value, t)))
            {
                errors.Add($"{path}: {value.ValueKind} is not {string.Join(" or ", types)}");
                return;
            }
        }

        if (schema.TryGetProperty("oneOf", out JsonElement oneOf))
        {
            int matches = oneOf.EnumerateArray().Count(s => { List<string> e = []; Check(root, s, value, path, e); return e.Count == 0; });
            if (matches != 1)
            {
                errors.Add($"{path}: matches {matches} of the oneOf schemas, not exactly one");
            }
        }

        if (schema.TryGetProperty("enum", out JsonElement allowed) && !allowed.EnumerateArray().Any(a => a.GetRawText() == value.GetRawText()))
        {
            errors.Add($"{path}: {value.GetRawText()} is not one of {allowed.GetRawText()}");
        }

        if (value.ValueKind == JsonValueKind.Number)
        {
            double v = value.GetDouble();
            if (schema.TryGetProperty("minimum", out JsonElement min) && v < min.GetDouble())
            {
                errors.Add($"{path}: {v} is below the minimum {min.GetDouble()}");
            }

            if (schema.TryGetProperty("maximum", out JsonElement max) && v > max.GetDouble())
            {
                errors.Add($"{path}: {v} is above the maximum {max.GetDouble()}");
            }
        }

        if (value.ValueKind == JsonValueKind.Array)
        {
            int n = value.GetArrayLength();
            if (schema.TryGetProperty("minItems", out JsonElement minItems) && n < minItems.GetInt32())
            {
                errors.Add($"{path}: {n} items, fewer than {minItems.GetInt32()}");
            }

            if (schema.TryGetProperty("maxItems", out JsonElement maxItems) && n > maxItems.GetInt32())
            {
                errors.Add($"{path}: {n} items, more than {maxItems.GetInt32()}");
            }

            if (schema.TryGetProperty("items", out JsonElement items))
            {
                int i = 0;
                foreach (JsonElement item in value.EnumerateArray())
                {
                    Check(root, items, item, $"{path}[{i++}]", errors);
                }
            }
        }

        if (value.ValueKind == JsonValueKind.Object)
        {
            if (schema.TryGetProperty("required", out JsonElement required))
            {
                foreach (JsonElement name in required.EnumerateArray())
                {
                    if (!value.TryGetProperty(name.GetString()!, out _))
                    {
                        errors.Add($"{path}: required property '{name.GetString()}' is missing");
                    }
                }
            }

            schema.TryGetProperty("properties", out JsonElement properties);
            bool hasAdditional = schema.TryGetProperty("additionalProperties", out JsonElement additional);
            foreach (JsonProperty p in value.EnumerateObject())
            {
                if (properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(p.Name, out JsonElement ps))
                {
                    Check(root, ps, p.Value, $"{path}.{p.Name}", errors);
                }
                else if (hasAdditional && additional.ValueKind == JsonValueKind.False)
                {
                    errors.Add($"{path}: property '{p.Name}' is not in the schema");
                }
                else if (hasAdditional && additional.ValueKind == JsonValueKind.Object)
                {
                    Check(root, additional, p.Value, $"{path}.{p.Name}", errors);
                }
            }
        }
    }

    private static bool Is(JsonElement v, string type) => type switch
    {
        "null" => v.ValueKind == JsonValueKind.Null,
        "boolean" => v.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "object" => v.ValueKind == JsonValueKind.Object,
        "array" => v.ValueKind == JsonValueKind.Array,
        "string" => v.ValueKind == JsonValueKind.String,
        "number" => v.ValueKind == JsonValueKind.Number,
        "integer" => v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out _),
        _ => throw new ArgumentException($"unknown JSON Schema type '{type}'"),
    };
}

/// <summary>Validates JSON against <c>docs/prediction.schema.json</c>, the one schema of predictions and inspection results.</summary>
public static class PredictionSchema
{
    private static readonly Lazy<JsonDocument> Schema = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(SharedData.RepoRoot, "docs", "prediction.schema.json"))));

    /// <summary>Fails the test with every violation when <paramref name="json"/> does not follow the schema.</summary>
    public static void Validate(string json)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        List<string> errors = JsonSchemaValidator.Validate(Schema.Value.RootElement, doc.RootElement);
        Assert.True(errors.Count == 0, "Not valid against docs/prediction.schema.json:\n" + string.Join("\n", errors) + "\n" + json);
    }
}
