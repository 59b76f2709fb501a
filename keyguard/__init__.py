"""keyguard: finds imin API keys before they are committed, and in history."""

__version__ = "0.1.0"
