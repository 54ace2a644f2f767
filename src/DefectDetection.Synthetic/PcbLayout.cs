namespace DefectDetection.Synthetic;

/// <summary>A through-hole pin of a board design, in design coordinates (pixels of an unmoved board).</summary>
/// <param name="X">Centre, x.</param>
/// <param name="Y">Centre, y.</param>
/// <param name="PadRadius">Radius of the copper pad (half the side for square pads).</param>
/// <param name="HoleRadius">Radius of the drilled hole.</param>
/// <param name="Square">True for a square pad (pin 1 of a part).</param>
public readonly record struct PcbPin(double X, double Y, double PadRadius, double HoleRadius, bool Square);

/// <summary>A copper trace segment (under the solder mask), in design coordinates.</summary>
/// <param name="X0">Start, x.</param>
/// <param name="Y0">Start, y.</param>
/// <param name="X1">End, x.</param>
/// <param name="Y1">End, y.</param>
/// <param name="HalfWidth">Half the trace width.</param>
public readonly record struct PcbTrace(double X0, double Y0, double X1, double Y1, double HalfWidth);

/// <summary>A silkscreen outline rectangle, in design coordinates.</summary>
/// <param name="X0">Left.</param>
/// <param name="Y0">Top.</param>
/// <param name="X1">Right.</param>
/// <param name="Y1">Bottom.</param>
/// <param name="HalfWidth">Half the line width.</param>
public readonly record struct PcbOutline(double X0, double Y0, double X1, double Y1, double HalfWidth);

/// <summary>One board design: where pins, traces and silkscreen are. Every board of a design shares it.</summary>
public sealed class PcbLayout
{
    internal PcbLayout(int width, int height, IReadOnlyList<PcbPin> pins, IReadOnlyList<PcbTrace> traces, IReadOnlyList<PcbOutline> outlines)
    {
        Width = width;
        Height = height;
        Pins = pins;
        Traces = traces;
        Outlines = outlines;
    }

    /// <summary>Design width in pixels.</summary>
    public int Width { get; }

    /// <summary>Design height in pixels.</summary>
    public int Height { get; }

    /// <summary>The through-hole pins.</summary>
    public IReadOnlyList<PcbPin> Pins { get; }

    /// <summary>The trace segments.</summary>
    public IReadOnlyList<PcbTrace> Traces { get; }

    /// <summary>The silkscreen outlines.</summary>
    public IReadOnlyList<PcbOutline> Outlines { get; }

    internal static PcbLayout Create(PcbBoardOptions o, int seed)
    {
        Random rng = new(seed);
        double mm = o.PixelsPerMm, pitch = 2.54 * mm;
        double padR = 0.85 * mm, holeR = 0.45 * mm;
        // 6 mm of bare board at the edges, but at most a tenth of the board: at 16 px/mm a fixed 96 px left a 256 px
        // board a 64 px strip, too narrow for any part, and a design with no pins.
        double margin = Math.Min(6 * mm, Math.Min(o.Width, o.Height) / 10.0);
        List<PcbPin> pins = [];
        List<PcbTrace> traces = [];
        List<PcbOutline> outlines = [];
        List<(double X0, double Y0, double X1, double Y1)> occupied = [];

        // Mounting holes in the corners.
        foreach ((double cx, double cy) in new[] { (margin * 0.6, margin * 0.6), (o.Width - (margin * 0.6), margin * 0.6), (margin * 0.6, o.Height - (margin * 0.6)), (o.Width - (margin * 0.6), o.Height - (margin * 0.6)) })
        {
            occupied.Add((cx - (3 * mm), cy - (3 * mm), cx + (3 * mm), cy + (3 * mm)));
        }

        int attempts = 0;
        int placed = 0;
        while (placed < o.ComponentCount && attempts < o.ComponentCount * 200)
        {
            attempts++;
            int kind = rng.Next(10);
            int rows, cols;
            double rowGap;
            if (kind < 4)
            {
                // DIP IC: two rows 7.62 mm (or 15.24 mm) apart.
                cols = 4 + rng.Next(9);
                rows = 2;
                rowGap = (rng.Next(4) == 0 ? 6 : 3) * pitch;
            }
            else if (kind < 7)
            {
                // Pin header 1xN or 2xN.
                cols = 3 + rng.Next(12);
                rows = 1 + rng.Next(2);
                rowGap = pitch;
            }
            else
            {
                // Two-pin part (resistor, capacitor, diode).
                cols = 2;
                rows = 1;
                rowGap = pitch;
            }

            double colGap = kind >= 7 ? (3 + rng.Next(2)) * pitch : pitch;
            bool vertical = rng.Next(2) == 0;
            double w = ((cols - 1) * colGap) + (2 * padR), h = ((rows - 1) * rowGap) + (2 * padR);
            if (vertical)
            {
                (w, h) = (h, w);
            }

            double x0 = margin + (rng.NextDouble() * (o.Width - (2 * margin) - w));
            double y0 = margin + (rng.NextDouble() * (o.Height - (2 * margin) - h));
            double keep = 2.0 * mm;
            var box = (x0 - keep, y0 - keep, x0 + w + keep, y0 + h + keep);
            if (x0 < margin || y0 < margin || occupied.Any(b => b.X0 < box.Item3 && box.Item1 < b.X1 && b.Y0 < box.Item4 && box.Item2 < b.Y1))
            {
                continue;
            }

            occupied.Add(box);
            placed++;
            int first = pins.Count;
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < cols; c++)
                {
                    double px = x0 + padR + (c * colGap), py = y0 + padR + (r * rowGap);
                    if (vertical)
                    {
                        px = x0 + padR + (r * rowGap);
                        py = y0 + padR + (c * colGap);
                    }

                    pins.Add(new PcbPin(px, py, padR, holeR, Square: r == 0 && c == 0));
                }
            }

            double s = 1.2 * mm;
            outlines.Add(new PcbOutline(x0 - s, y0 - s, x0 + w + s, y0 + h + s, 0.12 * mm));

            // Short stubs leaving some pins, like traces fanning out.
            for (int p = first; p < pins.Count; p++)
            {
                if (rng.Next(3) == 0)
                {
                    continue;
                }

                PcbPin pin = pins[p];
                double len = (3 + (rng.NextDouble() * 8)) * mm;
                double dx = 0, dy = 0;
                switch (rng.Next(4))
                {
                    case 0: dx = len; break;
                    case 1: dx = -len; break;
                    case 2: dy = len; break;
                    default: dy = -len; break;
                }

                traces.Add(new PcbTrace(pin.X, pin.Y, pin.X + dx, pin.Y + dy, 0.2 * mm));
            }
        }

        if (pins.Count == 0)
        {
            throw new ArgumentOutOfRangeException("options", $"A {o.Width}x{o.Height} board at {o.PixelsPerMm} pixels per mm has no room for a part; use a larger board or fewer pixels per mm.");
        }

        // Long bus traces between random pins (Manhattan routing with one bend).
        for (int i = 0; i < pins.Count / 6; i++)
        {
            PcbPin a = pins[rng.Next(pins.Count)], b = pins[rng.Next(pins.Count)];
            double half = (0.15 + (rng.NextDouble() * 0.15)) * mm;
            traces.Add(new PcbTrace(a.X, a.Y, b.X, a.Y, half));
            traces.Add(new PcbTrace(b.X, a.Y, b.X, b.Y, half));
        }

        return new PcbLayout(o.Width, o.Height, pins, traces, outlines);
    }
}
