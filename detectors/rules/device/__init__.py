"""Rules over device activity."""
