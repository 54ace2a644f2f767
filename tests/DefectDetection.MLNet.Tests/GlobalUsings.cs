global using DefectDetection.Models;
global using DefectDetection.Testing;
