using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Pipeline;
using DefectDetection.Vision.Roi;

static class Explore
{
    public static void Run(string list, int limit, int tol, int merge, int minArea, int minSize)
    {
        var pairs = DeepPcbDataset.ReadList(list).Take(limit).ToList();
        var det = new TemplateDifferenceRoiDetector(null, new TemplateDifferenceOptions { Tolerance = tol, MergeDistance = merge, MinArea = minArea, BoxMargin = 0 });
        int dump = 0; int gt = 0, hit = 0, hitIou = 0, cands = 0, noise = 0, multi = 0;
        var perType = new Dictionary<string, (int n, int hit, int iou)>();
        long[] hist = new long[256];
        foreach (var p in pairs)
        {
            using Image t = ImageCodecs.Load(p.TestImagePath), r = ImageCodecs.Load(p.TemplateImagePath);
            if (gt == 0) { var px = r.Pixels; foreach (var b in px) hist[b]++; }
            var rois = det.Detect(t, r);
            cands += rois.Count;
            foreach (var roi in rois)
            {
                int cx = roi.Box.X + roi.Box.Width / 2, cy = roi.Box.Y + roi.Box.Height / 2;
                if (!p.Defects.Any(d => cx >= d.Box.X && cx < d.Box.Right && cy >= d.Box.Y && cy < d.Box.Bottom)) noise++;
            }
            foreach (var d in p.Defects)
            {
                gt++;
                var inside = rois.Where(roi => { int cx = roi.Box.X + roi.Box.Width / 2, cy = roi.Box.Y + roi.Box.Height / 2; return cx >= d.Box.X && cx < d.Box.Right && cy >= d.Box.Y && cy < d.Box.Bottom; }).ToList();
                bool h = inside.Count > 0; if (h) hit++;
                if (inside.Count > 1) multi++;
                if (!h && dump < 12) { dump++; Console.WriteLine($"miss {p.TestImagePath} {d.Box} {d.Label} near: " + string.Join(",", rois.Where(q => Rectangle.Intersect(q.Box, d.Box.Inflate(10)).Area > 0).Select(q => q.Box.ToString()))); Save(t, r, d.Box.Inflate(12), $"/tmp/miss{dump}.png"); }
                bool iou = inside.Any(roi => { var b = Grow(roi.Box, minSize); return Rectangle.IntersectionOverUnion(b, d.Box) > 0.33; });
                if (iou) hitIou++;
                var e = perType.GetValueOrDefault(d.Label); perType[d.Label] = (e.n + 1, e.hit + (h ? 1 : 0), e.iou + (iou ? 1 : 0));
            }
        }
        Console.WriteLine($"gt {gt} hit {hit} ({(double)hit / gt:F3}) iou {hitIou} ({(double)hitIou / gt:F3}) multi {multi} cands {cands} noise {noise}");
        foreach (var kv in perType.OrderBy(k => k.Key)) Console.WriteLine($"  {kv.Key,-10} {kv.Value.n,5} hit {(double)kv.Value.hit / kv.Value.n:F3} iou {(double)kv.Value.iou / kv.Value.n:F3}");
        Console.WriteLine("hist: " + string.Join(" ", hist.Select((c, i) => (c, i)).Where(x => x.c > 1000).Select(x => $"{x.i}:{x.c}")));
    }

    public static void Save(Image t, Image r, Rectangle box, string path)
    {
        box = Rectangle.Intersect(box, new Rectangle(0, 0, t.Width, t.Height));
        int s = 4;
        using Image o = Image.Create(box.Width * s * 2 + 4, box.Height * s, PixelFormat.Gray8);
        for (int y = 0; y < box.Height * s; y++)
            for (int x = 0; x < box.Width * s; x++)
            {
                o.GetRow(y)[x] = t.GetRow(box.Y + y / s)[box.X + x / s];
                o.GetRow(y)[x + box.Width * s + 4] = r.GetRow(box.Y + y / s)[box.X + x / s];
            }
        ImageCodecs.Save(o, path);
    }

    public static Rectangle Grow(Rectangle b, int s)
    {
        int w = Math.Max(b.Width, s), h = Math.Max(b.Height, s);
        return new Rectangle(b.X + b.Width / 2 - w / 2, b.Y + b.Height / 2 - h / 2, w, h);
    }
}
static class ShiftDiag
{
    public static void Run(string test, string temp)
    {
        using Image t0 = ImageCodecs.Load(test), r0 = ImageCodecs.Load(temp);
        using Image t = DefectDetection.Imaging.Processing.ColorConversion.Convert(t0, PixelFormat.Gray8), r = DefectDetection.Imaging.Processing.ColorConversion.Convert(r0, PixelFormat.Gray8);
        int w = t.Width, h = t.Height;
        for (int dy = -16; dy <= 16; dy += 4)
        {
            var sb = new System.Text.StringBuilder();
            for (int dx = -16; dx <= 16; dx += 4)
            {
                long n = 0;
                for (int y = 16; y < h - 16; y++)
                {
                    var a = t.GetRow(y); var b = r.GetRow(y + dy);
                    for (int x = 16; x < w - 16; x++) if ((a[x] < 128) != (b[x + dx] < 128)) n++;
                }
                sb.Append($"{n,7}");
            }
            Console.WriteLine(sb);
        }
    }
}
static class Side
{
    public static void Run(string test, string temp, string outPath)
    {
        using Image t0 = ImageCodecs.Load(test), r0 = ImageCodecs.Load(temp);
        Console.WriteLine($"{t0.PixelFormat} {r0.PixelFormat}");
        using Image t = DefectDetection.Imaging.Processing.ColorConversion.Convert(t0, PixelFormat.Gray8), r = DefectDetection.Imaging.Processing.ColorConversion.Convert(r0, PixelFormat.Gray8);
        using Image o = Image.Create(t.Width + 8 + r.Width, t.Height, PixelFormat.Gray8);
        for (int y = 0; y < t.Height; y++) { t.GetRow(y).CopyTo(o.GetRow(y)); r.GetRow(y).CopyTo(o.GetRow(y).Slice(t.Width + 8)); }
        Console.WriteLine($"{t.PixelFormat} {r.PixelFormat}");
        ImageCodecs.Save(o, outPath);
    }
}
