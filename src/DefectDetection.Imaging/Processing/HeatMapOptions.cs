namespace DefectDetection.Imaging.Processing;

/// <summary>How <see cref="HeatMap.Overlay"/> colours a float map and blends it over an image.</summary>
public sealed class HeatMapOptions
{
    /// <summary>The colour map. Default: <see cref="ColorMap.Jet"/>.</summary>
    public ColorMap ColorMap { get; init; } = ColorMap.Jet;

    /// <summary>The value shown as the first colour; null takes the map's minimum. Default: null.</summary>
    public float? Min { get; init; }

    /// <summary>The value shown as the last colour; null takes the map's maximum. Default: null.</summary>
    public float? Max { get; init; }

    /// <summary>Weight of the heat colour in the blend, 0 (image only) to 1 (heat only). Default: 0.5.</summary>
    public float Opacity { get; init; } = 0.5f;
}
