"""Demo sessions."""
