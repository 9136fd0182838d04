"""Pure domain core of the terminal: no I/O, no Textual, no pyserial."""
