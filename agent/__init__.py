"""Device-management agent: faults, remote commands, reprints (arrives with the agent issue)."""
