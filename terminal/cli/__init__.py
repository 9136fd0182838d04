"""The `posemu` command: the one place that picks adapters and wires everything."""
