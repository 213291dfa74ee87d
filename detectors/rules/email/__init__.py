"""Rules over email activity."""
