"""ISO 8583 messages, dialects, codecs, framing, crypto, strategies and a host simulator."""
