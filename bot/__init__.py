"""netzbot package."""
