"""Kafka, as every healthmon process meets it: connection, security, client health, the embedded broker.

- `connect`: the broker to use (the configured one, checked, or a fresh embedded one: `broker`)
- `security`: TLS and SASL for every aiokafka client, and the start-up check that explains a refusal
- `admin`: the topics created before any client needs them
- client health: `reachability` (whether the clients reach the broker), `brokerlog` (their error lines
  kept few), `broker_watch` (both, once per process), `clientguard` (bounded waits for CLI clients),
  `offsets` (end offsets that hold on every broker)

It imports no Faust: the Faust app's side of these is in `streams`.
"""
