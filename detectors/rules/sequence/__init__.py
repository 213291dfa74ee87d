"""Rules over sequence activity."""
