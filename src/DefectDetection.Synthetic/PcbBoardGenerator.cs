using DefectDetection.Datasets;
using DefectDetection.Annotations;
using DefectDetection.Imaging;
using DefectDetection.Pipeline;

namespace DefectDetection.Synthetic;

/// <summary>
/// Generates high-resolution images of a printed circuit board with hundreds of plated through-hole pins, traces,
/// silkscreen, a lighting gradient and sensor noise, each board slightly rotated, moved and scaled, with labelled
/// defects. Deterministic: the same seeds give the same pixels. Thread-safe.
/// </summary>
public sealed class PcbBoardGenerator
{
    private static readonly Rgb Mask = new(28, 104, 52);
    private static readonly Rgb TraceColor = new(52, 140, 66);
    private static readonly Rgb Copper = new(212, 182, 108);
    private static readonly Rgb Hole = new(22, 24, 20);
    private static readonly Rgb Silk = new(232, 232, 222);

    private readonly PcbBoardOptions _options;

    /// <summary>Creates a generator for one board design.</summary>
    /// <param name="options">Board size, resolution, variation and defect options.</param>
    /// <param name="designSeed">Chooses the design (where the parts are).</param>
    public PcbBoardGenerator(PcbBoardOptions? options = null, int designSeed = 1)
    {
        _options = options ?? new PcbBoardOptions();
        _options.Validate();
        Layout = PcbLayout.Create(_options, designSeed);
    }

    /// <summary>The board design shared by every generated board.</summary>
    public PcbLayout Layout { get; }

    /// <summary>Renders the design with no variation, noise or defects: a golden reference image.</summary>
    public Image RenderGolden() => Render(BoardTransform.Identity, [], noise: false, seed: 0);

    /// <summary>
    /// The golden board's pin boxes as regions of interest (in <see cref="PcbLayout.Pins"/> order) and three fiducials
    /// for a fixed-layout detector: the boxes of the pins nearest the top-left, top-right and bottom-left corners,
    /// grown by <paramref name="fiducialMargin"/> pixels of context on every side.
    /// </summary>
    /// <param name="label">The label of every region.</param>
    /// <param name="fiducialMargin">Context around each fiducial pin, in pixels.</param>
    public (IReadOnlyList<RegionOfInterest> Pins, Rectangle[] Fiducials) GoldenLayout(string label = "pin", int fiducialMargin = 40)
    {
        List<RegionOfInterest> pins = [.. Layout.Pins.Select(p => new RegionOfInterest(PinBox(BoardTransform.Identity, p), label))];
        Rectangle[] fiducials =
        [
            .. new[]
            {
                pins.MinBy(r => r.Box.X + r.Box.Y).Box,
                pins.MaxBy(r => r.Box.X - r.Box.Y).Box,
                pins.MaxBy(r => r.Box.Y - r.Box.X).Box,
            }.Select(b => b.Inflate(fiducialMargin)),
        ];
        return (pins, fiducials);
    }

    /// <summary>Generates one board.</summary>
    /// <param name="boardSeed">Chooses the placement, noise and defects of this board.</param>
    /// <param name="defective">Whether to draw defects (between MinDefects and MaxDefects of them).</param>
    public SyntheticBoard Generate(int boardSeed, bool defective = true)
    {
        Random rng = new(unchecked((boardSeed * 7919) + 0x5EED)); // HashCode.Combine would differ between processes.
        PcbBoardOptions o = _options;
        double angle = (rng.NextDouble() * 2 - 1) * o.MaxRotationDegrees * Math.PI / 180;
        double scale = 1 + ((rng.NextDouble() * 2 - 1) * o.MaxScaleChange);
        double tx = (rng.NextDouble() * 2 - 1) * o.MaxTranslation, ty = (rng.NextDouble() * 2 - 1) * o.MaxTranslation;
        BoardTransform transform = new(angle, scale, tx, ty, o.Width / 2.0, o.Height / 2.0);

        List<PlannedDefect> defects = [];
        if (defective && o.MaxDefects > 0)
        {
            int count = o.MinDefects + rng.Next(o.MaxDefects - o.MinDefects + 1);
            HashSet<int> usedPins = [];
            for (int i = 0; i < count; i++)
            {
                string kind = o.DefectKinds[rng.Next(o.DefectKinds.Count)];
                int pin;
                do
                {
                    pin = rng.Next(Layout.Pins.Count);
                }
                while (!usedPins.Add(pin) && usedPins.Count < Layout.Pins.Count);

                defects.Add(new PlannedDefect(kind, pin, rng.NextDouble(), rng.NextDouble(), rng.Next()));
            }
        }

        Image image = Render(transform, defects, noise: true, seed: boardSeed);
        List<LabeledBox> boxes = [.. defects.Select(d => new LabeledBox(DefectBox(transform, d), d.Kind))];
        List<Rectangle> pinBoxes = [.. Layout.Pins.Select(p => PinBox(transform, p))];
        return new SyntheticBoard(image, boxes, pinBoxes, transform);
    }

    /// <summary>The box a pin occupies on a board with the given transform.</summary>
    public static Rectangle PinBox(BoardTransform transform, PcbPin pin)
    {
        (double x, double y) = transform.Apply(pin.X, pin.Y);
        double r = pin.PadRadius * transform.Scale * (pin.Square ? 1.42 : 1.0);
        return Rectangle.FromEdges((int)Math.Floor(x - r), (int)Math.Floor(y - r), (int)Math.Ceiling(x + r), (int)Math.Ceiling(y + r));
    }

    private Rectangle DefectBox(BoardTransform t, PlannedDefect d)
    {
        PcbPin pin = Layout.Pins[d.Pin];
        return d.Kind switch
        {
            // A missing hole is a pin-level defect: its box is the pin's.
            PcbDefectKinds.MissingHole => PinBox(t, pin),
            // Copper that is not a pin is labelled with its own box: the part of the shape that shows beside the pads.
            PcbDefectKinds.Spur => VisibleBox(t, SpurShape(t, pin, d)),
            _ => VisibleBox(t, CopperBlob(t, pin, d)),
        };
    }

    /// <summary>Margin in pixels added around the visible part of a spur or of stray copper to make its label box.</summary>
    internal const int DefectBoxMargin = 2;

    // The bounds of the points of the circles that lie outside every pad (what a viewer sees of the defect), plus a
    // small margin. Points are sampled every quarter pixel.
    private Rectangle VisibleBox(BoardTransform t, IEnumerable<Circle> shape)
    {
        Circle[] circles = [.. shape];
        double cx0 = circles.Min(c => c.X - c.R), cy0 = circles.Min(c => c.Y - c.R), cx1 = circles.Max(c => c.X + c.R), cy1 = circles.Max(c => c.Y + c.R);
        List<(double X, double Y, double R, double Hole, bool Square)> pads = [];
        foreach (PcbPin p in Layout.Pins)
        {
            (double x, double y) = t.Apply(p.X, p.Y);
            double r = p.PadRadius * t.Scale;
            if (x + (1.5 * r) >= cx0 && x - (1.5 * r) <= cx1 && y + (1.5 * r) >= cy0 && y - (1.5 * r) <= cy1)
            {
                pads.Add((x, y, r, p.HoleRadius * t.Scale, p.Square));
            }
        }

        // Copper over a pad's copper does not show; copper over its hole does.
        double cos = Math.Cos(t.Angle), sin = Math.Sin(t.Angle);
        bool InPad(double x, double y)
        {
            foreach ((double px, double py, double r, double hole, bool square) in pads)
            {
                double dx = x - px, dy = y - py;
                bool inside = square
                    ? Math.Max(Math.Abs((cos * dx) + (sin * dy)), Math.Abs((-sin * dx) + (cos * dy))) <= r
                    : (dx * dx) + (dy * dy) <= r * r;
                if (inside && (dx * dx) + (dy * dy) > hole * hole)
                {
                    return true;
                }
            }

            return false;
        }

        double x0 = double.MaxValue, y0 = double.MaxValue, x1 = double.MinValue, y1 = double.MinValue;
        const double step = 0.25;
        foreach (Circle c in circles)
        {
            for (double y = c.Y - c.R; y <= c.Y + c.R; y += step)
            {
                for (double x = c.X - c.R; x <= c.X + c.R; x += step)
                {
                    if (((x - c.X) * (x - c.X)) + ((y - c.Y) * (y - c.Y)) <= c.R * c.R && !InPad(x, y))
                    {
                        x0 = Math.Min(x0, x);
                        y0 = Math.Min(y0, y);
                        x1 = Math.Max(x1, x);
                        y1 = Math.Max(y1, y);
                    }
                }
            }
        }

        if (x0 > x1)
        {
            // Entirely under pads (cannot happen with the shapes drawn): fall back to the shape's bounds.
            (x0, y0, x1, y1) = (cx0, cy0, cx1, cy1);
        }

        return Rectangle.FromEdges((int)Math.Floor(x0) - DefectBoxMargin, (int)Math.Floor(y0) - DefectBoxMargin, (int)Math.Ceiling(x1) + DefectBoxMargin, (int)Math.Ceiling(y1) + DefectBoxMargin);
    }

    // A spur: a thin copper finger leaving the pad at a random angle, drawn as a chain of small circles.
    private IEnumerable<Circle> SpurShape(BoardTransform t, PcbPin pin, PlannedDefect d)
    {
        double mm = _options.PixelsPerMm * t.Scale;
        double dir = d.A * 2 * Math.PI;
        double length = (0.7 + (0.6 * d.B)) * mm;
        double start = pin.PadRadius * t.Scale * 0.9;
        (double cx, double cy) = t.Apply(pin.X, pin.Y);
        for (double s = 0; s <= length; s += 0.05 * mm)
        {
            double r = 0.14 * mm * (1 - (0.5 * s / length));
            yield return new Circle(cx + (Math.Cos(dir) * (start + s)), cy + (Math.Sin(dir) * (start + s)), r);
        }
    }

    // Spurious copper: a blob of a few overlapping discs on the mask just beside the pad.
    private IEnumerable<Circle> CopperBlob(BoardTransform t, PcbPin pin, PlannedDefect d)
    {
        double mm = _options.PixelsPerMm * t.Scale;
        double dir = d.A * 2 * Math.PI;
        double dist = (pin.PadRadius * t.Scale) + ((0.55 + (0.45 * d.B)) * mm);
        (double cx, double cy) = t.Apply(pin.X, pin.Y);
        cx += Math.Cos(dir) * dist;
        cy += Math.Sin(dir) * dist;
        Random rng = new(d.Seed);
        int n = 2 + rng.Next(3);
        for (int i = 0; i < n; i++)
        {
            yield return new Circle(cx + ((rng.NextDouble() - 0.5) * 0.6 * mm), cy + ((rng.NextDouble() - 0.5) * 0.6 * mm), (0.2 + (rng.NextDouble() * 0.25)) * mm);
        }
    }

    private Image Render(BoardTransform t, List<PlannedDefect> defects, bool noise, int seed)
    {
        PcbBoardOptions o = _options;
        Image image = Image.Create(o.Width, o.Height, PixelFormat.Rgb24);
        Canvas canvas = new(image);
        canvas.Fill(Mask);

        foreach (PcbTrace tr in Layout.Traces)
        {
            (double x0, double y0) = t.Apply(tr.X0, tr.Y0);
            (double x1, double y1) = t.Apply(tr.X1, tr.Y1);
            canvas.Capsule(x0, y0, x1, y1, tr.HalfWidth * t.Scale, TraceColor);
        }

        foreach (PcbOutline ol in Layout.Outlines)
        {
            (double ax, double ay) = t.Apply(ol.X0, ol.Y0);
            (double bx, double by) = t.Apply(ol.X1, ol.Y0);
            (double cx, double cy) = t.Apply(ol.X1, ol.Y1);
            (double dx, double dy) = t.Apply(ol.X0, ol.Y1);
            double hw = ol.HalfWidth * t.Scale;
            canvas.Capsule(ax, ay, bx, by, hw, Silk);
            canvas.Capsule(bx, by, cx, cy, hw, Silk);
            canvas.Capsule(cx, cy, dx, dy, hw, Silk);
            canvas.Capsule(dx, dy, ax, ay, hw, Silk);
        }

        HashSet<int> missingHoles = [.. defects.Where(d => d.Kind == PcbDefectKinds.MissingHole).Select(d => d.Pin)];
        for (int i = 0; i < Layout.Pins.Count; i++)
        {
            PcbPin pin = Layout.Pins[i];
            (double x, double y) = t.Apply(pin.X, pin.Y);
            double r = pin.PadRadius * t.Scale;
            if (pin.Square)
            {
                canvas.Square(x, y, r, t.Angle, Copper);
            }
            else
            {
                canvas.Disc(x, y, r, Copper);
            }

            if (!missingHoles.Contains(i))
            {
                canvas.Disc(x, y, pin.HoleRadius * t.Scale, Hole);
            }
        }

        foreach (PlannedDefect d in defects)
        {
            IEnumerable<Circle>? shape = d.Kind switch
            {
                PcbDefectKinds.Spur => SpurShape(t, Layout.Pins[d.Pin], d),
                PcbDefectKinds.SpuriousCopper => CopperBlob(t, Layout.Pins[d.Pin], d),
                _ => null,
            };
            if (shape is not null)
            {
                foreach (Circle c in shape)
                {
                    canvas.Disc(c.X, c.Y, c.R, Copper);
                }
            }
        }

        canvas.FinishLightingAndNoise(noise ? o.NoiseSigma : 0, noise ? o.LightingStrength : 0, seed);
        return image;
    }

    private readonly record struct PlannedDefect(string Kind, int Pin, double A, double B, int Seed);

    private readonly record struct Circle(double X, double Y, double R);
}

/// <summary>Where a board lies in its image: rotation and scale about the image centre, then a translation.</summary>
/// <param name="Angle">Rotation in radians (clockwise in image coordinates).</param>
/// <param name="Scale">Scale factor.</param>
/// <param name="TranslateX">Shift in x, pixels.</param>
/// <param name="TranslateY">Shift in y, pixels.</param>
/// <param name="CenterX">Centre of rotation, x.</param>
/// <param name="CenterY">Centre of rotation, y.</param>
public readonly record struct BoardTransform(double Angle, double Scale, double TranslateX, double TranslateY, double CenterX, double CenterY)
{
    /// <summary>No movement.</summary>
    public static BoardTransform Identity => new(0, 1, 0, 0, 0, 0);

    /// <summary>Maps a design point to image coordinates.</summary>
    public (double X, double Y) Apply(double x, double y)
    {
        double dx = x - CenterX, dy = y - CenterY;
        double c = Math.Cos(Angle) * Scale, s = Math.Sin(Angle) * Scale;
        return (CenterX + (c * dx) - (s * dy) + TranslateX, CenterY + (s * dx) + (c * dy) + TranslateY);
    }
}

/// <summary>A generated board: the image, its defect labels and where every pin is.</summary>
public sealed class SyntheticBoard : IDisposable
{
    internal SyntheticBoard(Image image, IReadOnlyList<LabeledBox> defects, IReadOnlyList<Rectangle> pins, BoardTransform transform)
    {
        Image = image;
        Defects = defects;
        Pins = pins;
        Transform = transform;
    }

    /// <summary>The board image (RGB).</summary>
    public Image Image { get; }

    /// <summary>The defects drawn, with their kind as label.</summary>
    public IReadOnlyList<LabeledBox> Defects { get; }

    /// <summary>The box of every pin of the design on this board.</summary>
    public IReadOnlyList<Rectangle> Pins { get; }

    /// <summary>How the board was placed.</summary>
    public BoardTransform Transform { get; }

    /// <inheritdoc />
    public void Dispose() => Image.Dispose();
}
