"""Speech Studio: hear and measure speech recognition and synthesis models side by side."""

__version__ = "0.1.0"
