global using DefectDetection.Testing;
