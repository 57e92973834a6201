"""The simulated user: who they are, what they want, and how they say it."""
