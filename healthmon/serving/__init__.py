"""Serving: Prometheus metrics, the Redis view and the HTTP API."""
