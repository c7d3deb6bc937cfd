"""Producers: a simulated device fleet, publishing, and replay of River datasets."""
