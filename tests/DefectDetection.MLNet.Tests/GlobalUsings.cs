global using DefectDetection.Models;
global using DefectDetection.Testing;
global using DefectDetection.Vision.Backbones;
