namespace DefectDetection.Imaging;

/// <summary>An axis-aligned rectangle of whole pixels: left, top, width and height.</summary>
/// <param name="X">Left edge (inclusive).</param>
/// <param name="Y">Top edge (inclusive).</param>
/// <param name="Width">Width in pixels (non-negative).</param>
/// <param name="Height">Height in pixels (non-negative).</param>
public readonly record struct Rectangle(int X, int Y, int Width, int Height)
{
    /// <summary>Right edge (exclusive).</summary>
    public int Right => X + Width;

    /// <summary>Bottom edge (exclusive).</summary>
    public int Bottom => Y + Height;

    /// <summary>Number of pixels covered.</summary>
    public long Area => (long)Math.Max(0, Width) * Math.Max(0, Height);

    /// <summary>True when the rectangle covers no pixel.</summary>
    public bool IsEmpty => Width <= 0 || Height <= 0;

    /// <summary>Builds a rectangle from its edges (right and bottom exclusive).</summary>
    public static Rectangle FromEdges(int left, int top, int right, int bottom) => new(left, top, right - left, bottom - top);

    /// <summary>The overlap of two rectangles, empty when they do not overlap.</summary>
    public static Rectangle Intersect(Rectangle a, Rectangle b)
    {
        int l = Math.Max(a.X, b.X), t = Math.Max(a.Y, b.Y);
        int r = Math.Min(a.Right, b.Right), btm = Math.Min(a.Bottom, b.Bottom);
        return r > l && btm > t ? FromEdges(l, t, r, btm) : default;
    }

    /// <summary>The smallest rectangle holding both.</summary>
    public static Rectangle Union(Rectangle a, Rectangle b)
    {
        if (a.IsEmpty)
        {
            return b;
        }

        if (b.IsEmpty)
        {
            return a;
        }

        return FromEdges(Math.Min(a.X, b.X), Math.Min(a.Y, b.Y), Math.Max(a.Right, b.Right), Math.Max(a.Bottom, b.Bottom));
    }

    /// <summary>Intersection over union of two rectangles, in [0, 1].</summary>
    public static double IntersectionOverUnion(Rectangle a, Rectangle b)
    {
        long inter = Intersect(a, b).Area;
        long union = a.Area + b.Area - inter;
        return union <= 0 ? 0 : (double)inter / union;
    }

    /// <summary>This rectangle grown by <paramref name="margin"/> pixels on every side.</summary>
    public Rectangle Inflate(int margin) => new(X - margin, Y - margin, Width + (2 * margin), Height + (2 * margin));

    /// <summary>True when <paramref name="other"/> lies entirely inside this rectangle.</summary>
    public bool Contains(Rectangle other) => other.X >= X && other.Y >= Y && other.Right <= Right && other.Bottom <= Bottom;

    /// <summary>The rectangle as <c>WIDTHxHEIGHT+X+Y</c> (ImageMagick's geometry), e.g. <c>40x30+10+5</c>.</summary>
    public override string ToString() => $"{Width}x{Height}+{X}+{Y}";
}
