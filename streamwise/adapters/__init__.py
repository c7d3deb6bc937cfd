"""Adapters for the ports in :mod:`streamwise.ports`: in-memory (default) and real services."""
