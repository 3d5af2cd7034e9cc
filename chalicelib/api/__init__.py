"""The HTTP surface: one blueprint per audience, each view parse → one service call → render."""
