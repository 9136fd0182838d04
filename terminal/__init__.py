"""posemu: smart POS terminal emulator."""
