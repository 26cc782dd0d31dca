"""Deliver healthmon's alerts to Alertmanager: pure mapping and firing set, and the bridge process."""
