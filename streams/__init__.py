"""Faust app, settings, topics and tables."""
