"""healthmon: event-driven customer-health monitor."""
__version__ = "0.1.0"
