"""Rules over activity activity."""
