// Placeholder quickstart; replaced below.
Console.WriteLine("quickstart");
