"""Rules over logon activity."""
