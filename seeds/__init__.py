"""Real data about the AI summits and its loader, which replays it through the application service."""
