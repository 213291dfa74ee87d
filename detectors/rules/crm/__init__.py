"""Rules over crm activity."""
