"""pleo-export: the async Python SDK for Pleo's Export API."""
