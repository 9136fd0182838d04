"""Device management: the agent on each terminal and the TMS console side, over MQTT.

- ``store``: the SQLite outbox (every report on disk first, gone only on PUBACK) and command log
- ``link``: the connection (status + last will, heartbeats, outbox drain, command intake)
- ``commands``/``dispatch``/``signing``: checking, signature, run-once and running of commands
- ``faults``/``sources``: fault codes, debouncing, and where faults come from (bus, rates, crashes)
- ``service``: one terminal's agent; ``terminal_agent``/``handlers``: plugged into a runtime
- ``console``/``dedup``/``tms_side``/``panel``: the TMS side (``posemu tms``, the TUI panel)
- ``broker``: the embedded amqtt broker; ``mosquitto``: a private mosquitto for tests/benchmarks
- ``fleet``: many emulated terminals' agents in one process (``posemu fleet``)

Wire format: docs/tms-protocol.md.
"""
