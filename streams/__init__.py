"""Faust glue: the app, its topics and table, the patches it needs, consumer probes and hooks, the bounded stop."""
