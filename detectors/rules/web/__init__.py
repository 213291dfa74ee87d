"""Rules over web activity."""
