"""The prediction API: serves the latest verified snapshot of each model."""
