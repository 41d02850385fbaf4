"""servicepulse: hear what users say about IT services, detect incidents, measure experience, engage back."""

__version__ = "0.1.0"
