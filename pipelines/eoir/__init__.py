"""eoir."""
