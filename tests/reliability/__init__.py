"""The reliability suite: faults, crashes, hostile responses, secrets and bad caller input."""
